"""Message headers and their values: the policy, addresses, Message-IDs, reply subjects, the
loop marker, and messages already flattened elsewhere."""

from __future__ import annotations

import functools
import hashlib
import re
from email import policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from typing import Any


class _Headers(HeaderRegistry):
    """The stdlib's registry builds a new class with type() for every header it stores (about
    30 per message); build the class for each header name once."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


# SMTP line endings, and 7bit so German text goes out quoted-printable: the message is then
# valid on any relay, with or without 8BITMIME, and in .eml files alike.
POLICY = policy.SMTP.clone(cte_type="7bit", header_factory=_Headers())

LOOP_PREFIX = "mailbot/1"
_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~-"  # RFC 5322 atext, as a character class's contents
ATOM = rf"[{_ATEXT}]+"
# a bare ASCII addr-spec (what our own mail's addresses are): written as it is, in a header
# and in the envelope, with no parsing
PLAIN_ADDRESS = re.compile(rf"[.{_ATEXT}]+@[A-Za-z0-9.-]+")

# a dot-atom addr-spec (RFC 5322 3.4.1: no quoting, comments or obsolete forms), whose local
# part and domain are what is written: the standard library's parser reads it the same, at
# ~20 times the cost
_LABEL = r"[A-Za-z0-9-]+"
DOT_ATOM_ADDRESS = rf"(?P<local>{ATOM}(?:\.{ATOM})*)@(?P<domain>{_LABEL}(?:\.{_LABEL})*)"
_DOT_ATOM = re.compile(DOT_ATOM_ADDRESS)

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|antw|sv|vs)(\[\d+\])?\s*:\s*)+", re.I)
_MSGID = re.compile(r"^[^\s<>()\x00-\x1f\x7f]+@[^\s<>()\x00-\x1f\x7f]+$")


def one_line(value: object) -> str:
    """Any text folded into a single header-safe line (CR/LF and other controls become spaces)."""
    return " ".join(_CONTROL.sub(" ", str(value)).split())


def loop_value(message_id: str) -> str:
    """The loop header value: a fixed marker plus a short hash that names this one mail."""
    digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:16]
    return f"{LOOP_PREFIX} {digest}"


class Flat(EmailMessage):
    """A message composed and flattened elsewhere (a worker process): its headers, for the
    envelope and the logs, and the exact bytes to send; never flattened again."""

    flat: bytes = b""
    envelope: tuple[str, list[str]] | None = None  # (sender, recipients) when known

    def as_bytes(self, unixfrom: bool = False, policy: Any = None) -> bytes:
        linesep = (policy or self.policy).linesep
        return self.flat if linesep == "\r\n" else self.flat.replace(b"\r\n",
                                                                       linesep.encode())


def flat_message(data: bytes) -> Flat:
    """`data` (as made by make_message().as_bytes()) as a message: only the headers are read."""
    msg = BytesHeaderParser(_class=Flat, policy=POLICY).parsebytes(data)
    assert isinstance(msg, Flat)
    msg.flat = data
    return msg


@functools.lru_cache(maxsize=4096)
def parse_address(value: str, display_name: str = "") -> Address:
    """A header-safe Address from "Name <addr>" or "addr"; raises ValueError when unusable.
    Remembered: the sender is the same in every message (an Address is immutable)."""
    if any(c in value for c in "\r\n\x00"):
        raise ValueError(f"address contains a line break: {value!r}")
    bare = _DOT_ATOM.fullmatch(value)
    if bare is not None:  # a bare address, as recipients are stored: nothing to parse
        return Address(display_name=one_line(display_name), username=bare["local"],
                       domain=bare["domain"])
    name, addr = parseaddr(value)
    if "@" not in addr or addr.startswith("@") or addr.endswith("@"):
        raise ValueError(f"not an e-mail address: {value!r}")
    return Address(display_name=one_line(name or display_name), addr_spec=addr)


def _msgid(value: str) -> str | None:
    """`<id>` for a bare or bracketed Message-ID; None when it is not one (never raw text)."""
    bare = value.strip().strip("<>").strip()
    return f"<{bare}>" if _MSGID.match(bare) else None


def reply_subject(original: str) -> str:
    """ "Re: <original>" without stacking "Re: AW: Re:"."""
    return "Re: " + _REPLY_PREFIX.sub("", one_line(original))
