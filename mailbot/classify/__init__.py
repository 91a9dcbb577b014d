"""Classify an InboundMail into an Intent with the rules in rules/ and the open events."""

from __future__ import annotations

from mailbot.classify.chain import CHAIN, classify
from mailbot.rulebook import Rules, example_failures, load_default_rules, load_rules

__all__ = ["CHAIN", "Rules", "classify", "example_failures", "load_default_rules", "load_rules"]
