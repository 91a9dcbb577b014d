"""Implementations of the `mailbot` subcommands; each module wires stages and jobs."""
