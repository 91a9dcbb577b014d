"""Runners: intake, delivery and scheduled jobs; each a small step behind a thin handler."""
