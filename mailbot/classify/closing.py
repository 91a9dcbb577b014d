"""Where a mail's closing ("Viele Grüße") starts: the signature block and the text above it."""

from __future__ import annotations

from mailbot.classify.reading import Context
from mailbot.parse.text import prose_line


def closing_block(text: str, signature: str, ctx: Context) -> list[str]:
    """Lines from the closing ("Viele Grüße") to the end, with the cut-off signature."""
    lines = text.split("\n")
    start = _closing_at(lines, ctx)
    if start is None:
        # no closing: the last paragraph, if it is short lines only (name, organisation)
        para: list[str] = []
        for line in reversed(lines):
            if not line.strip():
                if para:
                    break
                continue
            para.insert(0, line)
        start_lines = para if len(para) <= 4 and all(len(x) <= 60 for x in para) else []
        return start_lines + signature.split("\n")
    return lines[start:] + signature.split("\n")


def text_without_closing(text: str, ctx: Context) -> str:
    lines = text.split("\n")
    start = _closing_at(lines, ctx)
    return text if start is None else "\n".join(lines[:start])


def _closing_at(lines: list[str], ctx: Context) -> int | None:
    """Index of the last closing line ("Viele Grüße") near the end, if any."""
    closing = ctx.rules.pattern("signature.closing")
    for i in range(len(lines) - 1, max(-1, len(lines) - 15), -1):
        if prose_line(lines[i]):
            return None  # a closing above running text opened the mail; it closes nothing
        if closing.match(lines[i]):
            return i
    return None
