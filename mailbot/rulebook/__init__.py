"""Load and validate the TOML rule files in rules/: named word lists and regex patterns."""

from mailbot.rulebook.book import Rules, Section
from mailbot.rulebook.literals import required_words
from mailbot.rulebook.loading import (
    REQUIRED,
    example_failures,
    load_default_rules,
    load_file,
    load_rules,
)
from mailbot.rulebook.matcher import Matcher

__all__ = ["REQUIRED", "Matcher", "Rules", "Section", "example_failures", "load_default_rules",
           "load_file", "load_rules", "required_words"]
