"""Where a mail's closing ("Viele Grüße") starts: the signature block and the text above it."""

from __future__ import annotations

from mailbot.classify.reading import Context
from mailbot.parse.text import prose_line


def closing_block(text: str, signature: str, ctx: Context) -> list[str]:
    """Lines from the closing ("Viele Grüße") to the end, with the cut-off signature."""
    lines = text.split("\n")
    start = _closing_at(lines, ctx)
    if start is None:
        # no closing: the short lines that end the last paragraph (name, organisation), also
        # below a sentence without a blank line ("… Danke!!⏎Oksana⏎Ukrainischer Verein e.V.")
        tail: list[str] = []
        for line in reversed(lines):
            if not line.strip():
                if tail:
                    break
                continue
            if len(line) > 60 or prose_line(line):
                break
            tail.insert(0, line)
        return tail[-4:] + signature.split("\n")
    return lines[start:] + signature.split("\n")


def text_without_closing(text: str, ctx: Context) -> str:
    lines = text.split("\n")
    start = _closing_at(lines, ctx)
    return text if start is None else "\n".join(lines[:start])


def _closing_at(lines: list[str], ctx: Context) -> int | None:
    """Index of the last closing line ("Viele Grüße") near the end, if any."""
    closing = ctx.rules.pattern("signature.closing")
    footer = (ctx.rules.pattern("signature.disclaimer"), ctx.rules.pattern("organisations.footer"))
    for i in range(len(lines) - 1, max(-1, len(lines) - 15), -1):
        if any(f.match(lines[i].strip()) for f in footer):
            continue  # a legal footer or a virus-check note below the signature is no text
        if prose_line(lines[i]):
            return None  # a closing above running text opened the mail; it closes nothing
        if closing.match(lines[i]):
            return i
    return None
