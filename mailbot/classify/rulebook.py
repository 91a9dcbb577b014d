"""The rule book now lives in :mod:`mailbot.rulebook` (parse needs it too and must not import classify);
this module keeps the old import path working for callers outside the two stages."""

from __future__ import annotations

from mailbot.rulebook import (
    REQUIRED,
    Matcher,
    Rules,
    Section,
    example_failures,
    load_default_rules,
    load_file,
    load_rules,
    required_words,
)

__all__ = ["REQUIRED", "Matcher", "Rules", "Section", "example_failures", "load_default_rules",
           "load_file", "load_rules", "required_words"]
