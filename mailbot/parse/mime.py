"""MIME walking and decoding for parse: charsets with fallbacks, header words, body text parts."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from email.header import decode_header
from email.message import Message

from mailbot.parse.html import html_to_text
from mailbot.types import Attachment

MAX_PARTS = 200  # a hostile or endless nesting stops here; a registration has a handful
# Names mail software puts in charset= that Python's codecs do not know under that name.
_CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "x-sjis": "shift_jis",
    "x-gbk": "gbk", "gb2312": "gb18030", "gbk": "gb18030", "x-euc-jp": "euc_jp",
    "windows-874": "cp874", "x-mac-roman": "mac_roman", "macintosh": "mac_roman",
    "iso-8859-8-i": "iso-8859-8", "unicode-1-1-utf-7": "utf-7", "x-unknown": "",
    "unknown-8bit": "", "x-user-defined": "", "default": "", "us-ascii": "cp1252",
    "ascii": "cp1252", "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
    "utf8": "utf-8", "utf-8": "utf-8",
}


@dataclass
class Body:
    """What the MIME tree holds for parse: the chosen text and what else was found."""

    text: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    reports: list[Message] = field(default_factory=list)  # message/delivery-status parts
    attached: list[Message] = field(default_factory=list)  # message/rfc822 parts
    html_only: bool = False
    calendar_methods: list[str] = field(default_factory=list)  # METHOD of text/calendar parts


def codec_for(charset: str | None) -> str | None:
    """A Python codec name for a MIME charset, or None when it is unknown."""
    if not charset:
        return None
    name = charset.strip().strip('"\'').lower()
    name = _CHARSET_ALIASES.get(name, name)
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def decode_bytes(raw: bytes, charset: str | None, defects: list[str] | None = None) -> str:
    """Bytes to text, never raises: the first *lossless* decoding of the declared charset,
    UTF-8, cp1252 and Latin-1; a lossy one only for UTF-8 that is mostly valid."""
    if raw.isascii():
        return raw.decode("ascii")
    codec = codec_for(charset)
    if charset and codec is None and defects is not None:
        defects.append(f"unknown charset {charset.strip()[:40]!r}")
    western = codec in (None, "ascii", "cp1252", "latin-1", "iso8859-1")
    # Mislabelled UTF-8 under a Western label is common, and real Latin-1 text is practically
    # never valid UTF-8: for Western labels UTF-8 goes first; any other label is believed.
    for name in ([] if western else [codec]) + ["utf-8"]:
        try:
            return raw.decode(name)  # type: ignore[arg-type]
        except (UnicodeDecodeError, LookupError):
            pass
    if defects is not None:
        defects.append(f"bytes not valid in {'utf-8' if western else codec}")
    # UTF-8 with a broken byte or a cut-off character: keep it, mark the damage, but only
    # when its valid multi-byte characters clearly outnumber the broken ones. One stray "ä"
    # in ASCII text is Latin-1 ("Sch\xe4fer"), not UTF-8 with a hole: a lossless decoding
    # beats a lossy one.
    if codec in (None, "utf-8") or western:
        text = raw.decode("utf-8", "replace")
        bad = text.count("\ufffd")
        non_ascii = len(text) - len(text.encode("ascii", "ignore"))  # counted in C
        if non_ascii - bad >= 2 * bad:
            return text
    if not western and codec != "utf-8":
        return raw.decode(codec, "replace")  # type: ignore[arg-type]
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # maps every byte: the lossless last resort


def header_text(value: object) -> str:
    """A header value decoded (RFC 2047 words, raw 8-bit), whitespace folded."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    if "=?" not in value and value.isascii():
        return " ".join(value.split())
    try:
        parts = decode_header(value)
    except Exception:  # noqa: BLE001 - the email package raises assorted errors on junk
        parts = [(value, None)]
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            if not chunk.isascii():
                chunk = decode_bytes(chunk.encode("utf-8", "surrogateescape"), None)
            out.append(chunk)
        else:
            out.append(decode_bytes(chunk, charset))
    # decode_header drops the space between an encoded word and plain text; keep words apart
    text = "".join(out) if len(out) > 1 and any(isinstance(c, bytes) for c, _ in parts) \
        else " ".join(out)
    return " ".join(text.split())


def _payload_bytes(part: Message, defects: list[str]) -> bytes:
    try:
        raw = part.get_payload(decode=True)
    except Exception as exc:  # noqa: BLE001 - broken transfer encodings
        defects.append(f"undecodable payload ({type(exc).__name__})")
        raw = None
    if isinstance(raw, bytes):
        return raw
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("ascii", "surrogateescape")
    return b""


def _charset(part: Message) -> str | None:
    try:
        cs = part.get_param("charset")
    except Exception:  # noqa: BLE001
        return None
    if isinstance(cs, tuple):  # RFC 2231 (charset, language, value)
        cs = cs[2]
    return str(cs) if cs else None


def part_text(part: Message, defects: list[str]) -> str:
    return decode_bytes(_payload_bytes(part, defects), _charset(part), defects)


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        return ""
    return header_text(name) if name else ""


def walk_body(msg: Message) -> Body:
    """Choose the body text (text/plain preferred over text/html) and list the rest."""
    body = Body()
    plains: list[str] = []
    htmls: list[str] = []
    stack: list[Message] = [msg]
    seen = 0
    while stack:
        part = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            body.defects.append(f"more than {MAX_PARTS} MIME parts; the rest was skipped")
            break
        ctype = part.get_content_type()
        body.content_types.append(ctype)
        payload = part.get_payload()
        if ctype == "message/delivery-status":
            body.reports.append(part)
            continue
        if ctype in ("message/rfc822", "message/global", "text/rfc822-headers"):
            if isinstance(payload, list):
                body.attached.extend(p for p in payload if isinstance(p, Message))
            elif ctype == "text/rfc822-headers":
                body.attached.append(part)
            continue
        if part.is_multipart() and isinstance(payload, list):
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))
            continue
        if ctype in ("text/calendar", "application/ics"):
            body.calendar_methods.append(_calendar_method(part))
        disposition = (part.get("Content-Disposition") or "").lower()
        filename = _filename(part)
        is_attachment = disposition.startswith("attachment") or (
            bool(filename) and not ctype.startswith("text/"))
        if ctype == "text/plain" and not is_attachment:
            plains.append(part_text(part, body.defects))
        elif ctype == "text/html" and not is_attachment:
            htmls.append(part_text(part, body.defects))
        elif part is not msg or ctype not in ("text/plain", "text/html"):
            size = len(payload) if isinstance(payload, str) else 0
            body.attachments.append(Attachment(filename, ctype, size))
    for i, text in enumerate(plains):
        if looks_like_html(text):
            plains[i] = html_to_text(text)
            body.defects.append("HTML in a text/plain part")
    if plains and any(p.strip() for p in plains):
        body.text = "\n\n".join(p for p in plains if p.strip())
    elif htmls:
        body.text = "\n\n".join(html_to_text(h) for h in htmls)
        body.html_only = True
    elif plains:
        body.text = ""
    return body


_METHOD = re.compile(rb"^METHOD:\s*([A-Za-z-]+)", re.M)


def _calendar_method(part: Message) -> str:
    """REQUEST, REPLY, CANCEL …: from the Content-Type parameter, else from the iCalendar."""
    method = part.get_param("method")
    if isinstance(method, str) and method.strip():
        return method.strip().upper()
    try:
        raw = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - a broken part is just not a calendar we can read
        return ""
    m = _METHOD.search(raw[:20000]) if isinstance(raw, bytes) else None
    return m.group(1).decode("ascii").upper() if m else ""


_CRLF = re.compile(r"\r\n?")
_HTML_START = re.compile(r"^\s*(?:<!doctype html|<html|<head|<body|<div|<p[ >]|<table|<meta)", re.I)
_HTML_TAGS = re.compile(r"</(?:div|p|td|body|html|blockquote|span)>|<br\s*/?>", re.I)


def looks_like_html(text: str) -> bool:
    """A body that is HTML although it says text/plain (some clients and forwarders do that)."""
    head = text[:3000]
    return bool(_HTML_START.match(head)) and len(_HTML_TAGS.findall(head)) >= 2


def normalise_newlines(text: str) -> str:
    return _CRLF.sub("\n", text) if "\r" in text else text
