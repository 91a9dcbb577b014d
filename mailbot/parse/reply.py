"""Split a mail body into the new text, the signature and the quoted history."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailbot.parse.text import flowing, prose_line
from mailbot.rulebook import Matcher, Rules

_QUOTED = re.compile(r"^\s*>")
# Cheap pre-check before the header patterns run: every quote header ends with a colon or a
# "wrote"-verb, or starts with a rule of dashes or underscores.
_WROTE = ("wrote", "schrieb", "écrit", "escribió", "scrisse", "schreef", "napisał", "napisał(a)",
          "skrev", "kirjoitti", "escreveu", "написал", "написал(а)", "пишет", "写道", "寫道")


def _maybe_header(line: str) -> bool:
    t = line.rstrip()
    if not t:
        return False
    if t[-1] in ":：" or t.lstrip()[:2] in ("--", "__", "=="):
        return True
    return t[-14:].lower().endswith(_WROTE)


MAX_LINES = 600  # quoted history starts near the top; a longer body is not read to its end
_HEADER_WINDOW = 7  # lines below a From: line that may hold the rest of its header block
_MAX_SIG_LINES = 12  # a closing followed by more than this is not the end of the mail


@dataclass(frozen=True)
class Split:
    text: str
    signature: str
    quoted: str


@dataclass(frozen=True)
class _Patterns:
    header: Matcher
    opener: Matcher
    from_line: Matcher
    field_line: Matcher
    separator: Matcher
    delimiter: Matcher
    mobile: Matcher
    closing: Matcher
    disclaimer: Matcher
    hard_end: Matcher  # any of: delimiter, mobile footer, disclaimer, rule line


_cache: dict[int, _Patterns] = {}


def _patterns(rules: Rules) -> _Patterns:
    key = id(rules)
    p = _cache.get(key)
    if p is None:
        p = _cache[key] = _Patterns(
            rules.pattern("quote.header"), rules.pattern("quote.opener"),
            rules.pattern("quote.from_line"), rules.pattern("quote.field_line"),
            rules.pattern("quote.separator"), rules.pattern("signature.delimiter"),
            rules.pattern("signature.mobile"), rules.pattern("signature.closing"),
            rules.pattern("signature.disclaimer"),
            rules.any_of("signature.delimiter", "signature.mobile", "signature.disclaimer",
                         "quote.separator"))
    return p


def _header_block_at(lines: list[str], i: int, p: _Patterns) -> bool:
    """A From:/Von: line followed by at least two header fields (Sent:, To:, Subject:, …)."""
    fields = 0
    for line in lines[i + 1:i + 1 + _HEADER_WINDOW]:
        if not line.strip():
            continue
        if p.field_line.match(line):
            fields += 1
            if fields >= 2:
                return True
        elif fields == 0 and len(line) < 80:
            continue  # a wrapped From: line ("Von: Name\n<addr>")
        else:
            break
    return False


def _quote_start(lines: list[str], p: _Patterns) -> tuple[int, int, bool] | None:
    """(first line of quoted history, first line after its header, whether it is a ">"
    block), or None."""
    n = len(lines)
    for i, line in enumerate(lines[:MAX_LINES]):
        if not line.strip():
            continue
        if _QUOTED.match(line):
            return i, i, True
        maybe = _maybe_header(line)
        if maybe and p.header.match(line):
            return i, i + 1, False
        if len(line) < 300 and p.opener.match(line):
            joined = line
            for k in (1, 2):
                if i + k >= n:
                    break
                joined = joined.rstrip() + " " + lines[i + k].strip()
                if _maybe_header(joined) and p.header.match(joined):
                    return i, i + k + 1, False
        if ":" in line[:40] and p.from_line.match(line) and _header_block_at(lines, i, p):
            return i, i + 1, False
        if ":" in line[:40] and p.field_line.match(line):
            # web.de / GMX / t-online put "Gesendet: …" above "Von:" in their quote block
            for k in range(i + 1, min(i + 3, n)):
                if lines[k].strip():
                    if p.from_line.match(lines[k]) and _header_block_at(lines, k, p):
                        return i, k + 1, False
                    break
        if maybe and p.separator.match(line):
            for k in range(i + 1, min(i + 4, n)):
                if lines[k].strip():
                    if p.from_line.match(lines[k]) and _header_block_at(lines, k, p):
                        return i, k + 1, False
                    break
    return None


def _interleaved(lines: list[str], start: int, p: _Patterns) -> tuple[list[str], list[str]]:
    """New lines and quoted lines when a ">" quote is answered in between or below."""
    new: list[str] = []
    quoted: list[str] = []
    for line in lines[start:]:
        if _QUOTED.match(line) or p.header.search(line) and not new:
            quoted.append(line)
        else:
            new.append(line)
    return new, quoted


def _cut_signature(lines: list[str], p: _Patterns) -> tuple[list[str], list[str]]:
    """Text lines and signature lines: hard delimiters first, then what follows a closing."""
    for i, line in enumerate(lines[:MAX_LINES]):
        if i > 0 and line and p.hard_end.match(line):
            text, sig = _cut_after_closing(lines[:i], p)
            return text, sig + lines[i:]
    return _cut_after_closing(lines, p)


def _cut_after_closing(lines: list[str], p: _Patterns) -> tuple[list[str], list[str]]:
    nonempty = [i for i, line in enumerate(lines) if line.strip()]
    for i in nonempty[-(_MAX_SIG_LINES + 1):]:
        if len(lines[i]) > 80 or not p.closing.match(lines[i]):
            continue
        rest = [j for j in nonempty if j > i]
        # "Vielen Dank für Ihre Nachricht." opening a mail is no sign-off: right below a
        # closing stand a name and a signature block, never sentences (further down, a
        # quote header we missed may be followed by anything)
        if len(rest) > _MAX_SIG_LINES or any(len(lines[j]) > 120 for j in rest) or \
                any(prose_line(lines[j]) for j in rest[:3]) or _prose_below(lines, rest[:4]) or \
                any(len(lines[j]) <= 80 and p.closing.match(lines[j]) for j in rest):
            # ("Danke für die Info!" on top, the registration, then "Viele Grüße"): the
            # last closing is the sign-off
            continue
        # the name right below the closing stays with the text; the block under it does not
        keep = i + 1
        if rest and len(lines[rest[0]].split()) <= 5 and len(lines[rest[0]]) <= 50:
            keep = rest[0] + 1
        return lines[:keep], lines[keep:]
    return lines, []


def _prose_below(lines: list[str], idx: list[int]) -> bool:
    """Hard-wrapped running text below a line ("Bitte melden Sie mich … in⏎Hannover an."):
    the soft-wrapped lines joined read as a sentence, which no signature block holds."""
    joined = flowing("\n".join(lines[j].strip() for j in idx))
    return any(prose_line(x) for x in joined.split("\n")[:3])


def split_reply(body: str, rules: Rules) -> Split:
    """The new text above (or between) quoted history, without signature and disclaimer."""
    p = _patterns(rules)
    lines = body.split("\n")
    found = _quote_start(lines, p)
    quoted: list[str] = []
    if found is None:
        top = lines
    else:
        start, body_start, is_block = found
        top = lines[:start]
        after = lines[start:]
        header_then_quote = not is_block and any(
            _QUOTED.match(x) for x in lines[body_start:body_start + 3])
        if is_block or header_then_quote:
            more, quoted = _interleaved(lines, body_start, p)
            quoted = lines[start:body_start] + quoted
            more_text = [x for x in more if x.strip()]
            if more_text:
                top = top + [""] + more
        else:
            quoted = after
    text_lines, sig_lines = _cut_signature(top, p)
    return Split(text="\n".join(text_lines).strip(), signature="\n".join(sig_lines).strip(),
                 quoted="\n".join(quoted).strip())
