"""The fast way out: a prepared message written straight to the bytes sent over SMTP.

make_message builds an EmailMessage, whose header objects, MIME tree and generator (it folds
every header twice) cost more than rendering the templates. Here the same message (headers,
parts, encodings) is written once, as bytes with CRLF line endings and 7-bit content, and
handed to the transport as a `Flat` message. It takes the common case only: ASCII addresses
and attachment names; anything else returns None and goes the general way.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from email.headerregistry import Address
from zoneinfo import ZoneInfo

from mailbot.outbox.compose import Prepared, prepare
from mailbot.outbox.headers import ATOM, PLAIN_ADDRESS, POLICY, Flat
from mailbot.types import OutgoingMail

_CRLF = b"\r\n"
_LIMIT = 78  # RFC 5322's recommended line length
# RFC 2047 5(3): what an encoded word may carry as itself inside a phrase (display names) and,
# a subset, inside unstructured text; the rest is written =XX.
_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_ATOM_WORD = re.compile(ATOM)
_TOKEN_NAME = re.compile(r"[A-Za-z0-9!#$%&'+.^_`{|}~ -]+")


# each byte as an encoded word carries it: itself, "_" for a space, else =XX
_Q_BYTE = [chr(b) if b in _Q_SAFE else "_" if b == 0x20 else f"={b:02X}" for b in range(256)]
_Q_ONE = frozenset(chr(b) for b in _Q_SAFE) | {" "}  # characters written as one character


def _q_word(chunk: str) -> str:
    return "=?utf-8?q?" + "".join(map(_Q_BYTE.__getitem__, chunk.encode("utf-8"))) + "?="


def _encoded_words(text: str) -> list[str]:
    """`text` as RFC 2047 encoded words of at most 64 characters (75 allowed: room for the
    header name on the first line), whole characters each."""
    words, start, size = [], 0, 0
    for i, ch in enumerate(text):
        n = 1 if ch in _Q_ONE else 3 * len(ch.encode("utf-8"))  # its size, encoded
        if i > start and size + n > 64 - 12:
            words.append(_q_word(text[start:i]))
            start, size = i, 0
        size += n
    if start < len(text):
        words.append(_q_word(text[start:]))
    return words


def _fold(name: str, tokens: list[str]) -> bytes:
    """`Name: tok tok …`, folded between tokens to keep lines near 78 characters."""
    lines, line = [], f"{name}:"
    for tok in tokens:
        if len(line) + 1 + len(tok) > _LIMIT and line != f"{name}:":
            lines.append(line)
            line = ""
        line += " " + tok
    lines.append(line)
    return "\r\n".join(lines).encode("ascii")


def _unstructured(name: str, value: str) -> bytes:
    if value.isascii() and "=?" not in value:
        return _fold(name, value.split(" ") if value else [""])
    return _fold(name, _encoded_words(value))


def _phrase(shown: str) -> list[str] | None:
    """A display name as tokens: atoms as they are, each run of other words as one encoded
    word (as the stdlib writes it); None when a run is too long for one word (a reader may
    put a space between two encoded words of a name)."""
    tokens: list[str] = []
    run: list[str] = []
    for word in [*shown.split(" "), None]:
        if word is not None and not (word.isascii() and _ATOM_WORD.fullmatch(word)
                                     and "=?" not in word):
            run.append(word)
            continue
        if run:
            encoded = _q_word(" ".join(run))
            if len(encoded) > 75:
                return None
            tokens.append(encoded)
            run = []
        if word is not None:
            tokens.append(word)
    return tokens


def _address(name: str, value: Address) -> bytes | None:
    addr, shown = value.addr_spec, value.display_name
    if not addr.isascii() or not PLAIN_ADDRESS.fullmatch(addr):
        return None
    if not shown:
        return _fold(name, [addr])
    tokens = _phrase(shown) if shown.strip() == shown and "  " not in shown else None
    if tokens is None:
        return None
    return _fold(name, [*tokens, f"<{addr}>"])


def _qp(text: str) -> bytes:
    """Quoted-printable text with CRLF line ends (soft breaks at 76, trailing blanks as =20)."""
    data = binascii.b2a_qp(text.encode("utf-8"), quotetabs=False, istext=True, header=False)
    return data.replace(b"\r\n", b"\n").replace(b"\n", _CRLF)


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", _CRLF)


def _part(headers: list[str], body: bytes) -> bytes:
    return "\r\n".join(headers).encode("ascii") + _CRLF + _CRLF + body


def _multipart(kind: str, parts: list[bytes]) -> tuple[str, bytes]:
    boundary = "=_mailbot_" + secrets.token_hex(12)  # "=_" never occurs in QP or base64
    body = b"".join(b"--" + boundary.encode() + _CRLF + p + _CRLF for p in parts)
    body += b"--" + boundary.encode() + b"--" + _CRLF
    return f'Content-Type: multipart/{kind};\r\n boundary="{boundary}"', body


def write(p: Prepared) -> tuple[bytes, list[bytes]] | None:
    """The message as bytes and its header lines, or None when it needs the general way (see
    the module text)."""
    head: list[bytes] = []
    for name, value in p.headers:
        if any(c in str(value) for c in "\r\n\x00"):
            return None
        line = (_address(name, value) if isinstance(value, Address)
                else _unstructured(name, str(value)))
        if line is None:
            return None
        head.append(line)
    text = _part(['Content-Type: text/plain; charset="utf-8"',
                  "Content-Transfer-Encoding: quoted-printable"], _qp(p.rendered.text))
    html = _part(['Content-Type: text/html; charset="utf-8"',
                  "Content-Transfer-Encoding: quoted-printable"], _qp(p.rendered.html))
    ctype, body = _multipart("alternative", [text, html])
    extra: list[bytes] = []
    if p.calendar is not None:
        data, method = p.calendar
        if not _TOKEN_NAME.fullmatch(method):
            return None
        extra.append(_part([f'Content-Type: text/calendar; method="{method}";\r\n'
                            ' charset="utf-8"', "Content-Transfer-Encoding: base64",
                            'Content-Disposition: attachment; filename="invite.ics"'],
                           _b64(data)))
    for filename, mime, data in p.attachments:
        maintype, _, subtype = mime.partition("/")
        kind = f"{maintype or 'application'}/{subtype or 'octet-stream'}"
        if not (_TOKEN_NAME.fullmatch(filename) and re.fullmatch(r"[\w.+-]+/[\w.+-]+", kind)):
            return None  # RFC 2231 names and odd types: the general way
        params = '; charset="utf-8"' if maintype == "text" else ""
        extra.append(_part([f"Content-Type: {kind}{params}", "Content-Transfer-Encoding: base64",
                            f'Content-Disposition: attachment; filename="{filename}"'],
                           _b64(data)))
    if extra:
        inner = _part([ctype], body)
        ctype, body = _multipart("mixed", [inner, *extra])
    head += [b"MIME-Version: 1.0", ctype.encode("ascii"),
             b"Content-Language: " + p.rendered.language.encode("ascii")]
    return _CRLF.join(head) + _CRLF + _CRLF + body, head


Written = tuple[bytes, list[bytes], tuple[str, list[str]]]  # bytes, header lines, envelope


def written(mail: OutgoingMail, from_addr: str, tz: ZoneInfo) -> Written | None:
    """The bytes to send for one outbox row, their header lines and the envelope (sender,
    recipients); None: use make_message. Raises as it does. Plain data: a worker process
    writes it, and the main process makes the message of it without parsing anything."""
    p = prepare(mail, from_addr, tz)
    out = write(p)
    if out is None:
        return None
    addresses = dict(p.headers)
    sender, to = addresses["From"], addresses["To"]
    assert isinstance(sender, Address) and isinstance(to, Address)
    return out[0], out[1], (sender.addr_spec, [to.addr_spec])


def as_flat(w: Written) -> Flat:
    """A message the transports send as it is, its envelope known (no header is parsed
    again to find it)."""
    data, head, envelope = w
    msg = Flat(policy=POLICY)
    for line in head:
        name, value = POLICY.header_source_parse(line.decode("ascii").splitlines(True))
        msg.set_raw(name, value)  # as the parser stores them: parsed only when read
    msg.flat = data
    msg.envelope = envelope
    return msg


def message_bytes(mail: OutgoingMail, from_addr: str, tz: ZoneInfo) -> bytes | None:
    """The bytes to send for one outbox row (None: use make_message); raises as it does."""
    got = written(mail, from_addr, tz)
    return got[0] if got is not None else None


def fast_message(mail: OutgoingMail, from_addr: str, tz: ZoneInfo) -> Flat | None:
    """`written` as a message (`as_flat`)."""
    got = written(mail, from_addr, tz)
    return as_flat(got) if got is not None else None
