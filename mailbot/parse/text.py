"""Text helpers shared by parse and classify: folding umlauts, sentences, subject prefixes, closings."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe",
                       "ı": "i", "ł": "l", "đ": "d"})
_DOUBLE = re.compile(r"([a-z])\1+")
# What opens a list item on its line ("1.", "2)", "-", "*", "•", "–"); classify reads it too.
LIST_MARK = r"(?:\d+[.)]|[-*•–])"
# A dot after a number ends a date ("am 25. Februar"), not a sentence.
# Nor do titles and abbreviations ("Herrn Dr. Emre Kaya", "z. B. Frau X"). Every break starts
# with white space: the lookahead first lets the alternatives run only there.
_SENTENCE = re.compile(r"(?=\s)(?:(?<=[.!?])(?<!\d\.)(?<!\bDr\.)(?<!Prof\.)(?<!\bHr\.)(?<!\bFr\.)"
                       r"(?<!\bNr\.)(?<!\bSt\.)(?<!\bMr\.)(?<!\bMs\.)(?<!Mrs\.)(?<!\bca\.)"
                       r"(?<!bzw\.)(?<!\bB\.)(?<!\bV\.)\s+(?=[A-ZÄÖÜ„\"(])|\n\s*\n"
                       r"|\n(?=\s*" + LIST_MARK + r"\s)"
                       # a chat-style mail starts its sentences in lower case after "?" and "!"
                       r"|(?<=[!?])\s+(?=[a-zäöüß])"
                       # and ends one with an emoji instead of a stop
                       "|(?<=[\U0001F300-\U0001FAFF\u2600-\u27BF])\\s+(?=[A-ZÄÖÜ]))")
# Reply and forward prefixes of German and English clients, possibly repeated ("AW: WG: …").
_PREFIX = re.compile(r"^\s*(?:(?:re|aw|wg|fwd?|fw|tr|antw|antwort|weitergeleitet|sv|vs|rv|r)"
                     r"\s*(?:\[\d+\])?\s*:\s*)+", re.I)
_FORWARD = re.compile(r"^\s*(?:(?:re|aw)\s*:\s*)*(?:wg|fwd?|fw|tr|weitergeleitet)\s*:", re.I)


# A soft line break: the next line goes on with a small letter, or the line before is long
# and ends without a sentence mark (mail clients wrap at 72–78 characters). The lookahead
# first: the lookbehinds of 30 and 51 characters are then tried at line ends only, not at
# every character of the text (half the time of the pattern).
_SOFT_BREAK = re.compile(r"(?=[ \t]*\n)(?:"
                         r"(?<=[^\n]{30})(?<=\S)[ \t]*\n(?=[ \t]*[a-zäöüß(„\"])"
                         r"|(?<=[^\n]{50}[^\s.!?:;])[ \t]*\n(?=[ \t]*[^\s\d\-*•>]))")


def flowing(text: str) -> str:
    """Lines of a paragraph joined, paragraph breaks and list lines kept: phrases that a hard
    wrap cut in two ("melden Sie mich für den Fachtag⏎im September an") match again."""
    return _SOFT_BREAK.sub(" ", text) if "\n" in text else text


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower-case, umlauts spelt out, other accents dropped: "Nürtingen" -> "nuertingen"."""
    text = text.lower().translate(_FOLD)
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text)
                       if not unicodedata.combining(c))
    return text


def skeleton(text: str) -> str:
    """Folded, doubled letters single: forgives "Werkstatgespräch" for "Werkstattgespräch"."""
    return _DOUBLE.sub(r"\1", fold(text))


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def bare_subject(subject: str) -> str:
    return _PREFIX.sub("", subject).strip()


def is_forward_subject(subject: str) -> bool:
    return bool(_FORWARD.match(subject))


_SENTENCE_END = (".", "!", "?", ":")


def prose_line(line: str) -> bool:
    """A line that reads as running text, not as a signature line (name, role, address):
    such a line below "Vielen Dank …" shows that it was no sign-off."""
    t = line.strip()
    return len(t) > 120 or (t.endswith(_SENTENCE_END) and len(t.split()) >= 8)
