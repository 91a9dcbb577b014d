"""HTML mail bodies to plain text: blocks become lines, blockquotes become "> " quotes."""

from __future__ import annotations

import html
import re

# A tag, found by a scan that never backtracks: `[^>]*` stops at the first ">".
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:]*)([^>]*)>")
_SPACE = re.compile(r"[ \t\r\n\f\u00a0\u200b]+")
# Elements whose content is not text the sender wrote.
_SKIP = frozenset({"style", "script", "head", "title", "xml", "template", "noscript", "svg"})
_BREAK = frozenset({"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table",
                    "ul", "ol", "hr", "pre", "address", "dt", "dd", "section", "article",
                    "header", "footer", "center", "o:p"})
MAX_HTML = 400_000  # a registration never needs more; keeps a hostile page cheap


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body; quoted parts (blockquote) are prefixed with "> "."""
    if len(markup) > MAX_HTML:
        markup = markup[:MAX_HTML]
    lower = markup.lower()
    out: list[str] = []  # finished lines
    line: list[str] = []
    line_depth = 0
    depth = 0
    pos = 0
    n = len(markup)

    def flush() -> None:
        nonlocal line, line_depth
        text = "".join(line).strip()
        out.append(("> " * line_depth + text) if line_depth and text else
                   (">" * line_depth if line_depth else text))
        line = []
        line_depth = depth

    def add_text(chunk: str) -> None:
        nonlocal line_depth
        if not chunk:
            return
        chunk = _SPACE.sub(" ", html.unescape(chunk))
        if chunk.strip() and not "".join(line).strip():
            line_depth = depth
        line.append(chunk)

    while pos < n:
        lt = markup.find("<", pos)
        if lt < 0:
            add_text(markup[pos:])
            break
        add_text(markup[pos:lt])
        if markup.startswith("<!--", lt):
            end = markup.find("-->", lt + 4)
            pos = n if end < 0 else end + 3
            continue
        if markup.startswith("<!", lt) or markup.startswith("<?", lt):
            end = markup.find(">", lt)
            pos = n if end < 0 else end + 1
            continue
        m = _TAG.match(markup, lt)
        if not m:
            add_text("<")
            pos = lt + 1
            continue
        closing, name, attrs = m.group(1), m.group(2).lower(), m.group(3)
        pos = m.end()
        if name in _SKIP and not closing and not attrs.rstrip().endswith("/"):
            end = lower.find(f"</{name}", pos)
            pos = n if end < 0 else (lower.find(">", end) + 1 or n)
            continue
        if name == "blockquote":
            flush()
            if closing:
                depth = max(0, depth - 1)
            else:
                depth += 1
            line_depth = depth
            continue
        if name in _BREAK:
            if name == "p" and closing:
                flush()
            elif name == "li" and not closing:
                flush()
                line.append("* ")
            else:
                flush()
        elif name in ("td", "th") and closing:
            line.append(" ")
    flush()
    # Collapse runs of blank lines that block-level markup leaves behind.
    text = "\n".join(out)
    return re.sub(r"\n(?:[ >]*\n){2,}", "\n\n", text).strip("\n")
