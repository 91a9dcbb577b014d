"""Sender trust, in one place: does our own mail server vouch that a mail is from its From: address?

Anyone can write any From: header. What a forger cannot write is the verdict of the receiving
server, RFC 8601 `Authentication-Results`, *if* we only believe headers whose authserv-id is one
of ours (the server removes copies of its own id that arrive with a mail, RFC 8601 section 5).
A mail counts as from its address when such a header says DMARC pass for the From: domain, or
DKIM pass for a signing domain aligned with it (equal, or one a subdomain of the other).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import authres

from mailbot.types import InboundMail, Trust

_FOLD = re.compile(r"\r?\n")


def _domain(value: str) -> str:
    """The domain of an address or a bare domain, lower-cased, without a trailing dot."""
    return value.rpartition("@")[2].strip().strip("<>").rstrip(".").lower()


def aligned(signer: str, author: str) -> bool:
    """Relaxed alignment, kept simple: the same domain, or one is a subdomain of the other."""
    a, b = _domain(signer), _domain(author)
    if not a or not b:
        return False
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def _property(result: authres.AuthenticationResult, ptype: str, name: str) -> str:
    for prop in result.properties:
        if str(prop.type).lower() == ptype and str(prop.name).lower() == name:
            return str(prop.value or "")
    return ""


def _vouches(result: authres.AuthenticationResult, author: str) -> bool:
    method, verdict = str(result.method).lower(), str(result.result).lower()
    if verdict != "pass":
        return False
    if method == "dmarc":
        # DMARC passes only for the domain it evaluated: it must be the From: domain we read
        said = _property(result, "header", "from")
        return not said or _domain(said) == _domain(author)
    if method == "dkim":
        signer = _property(result, "header", "d") or _property(result, "header", "i")
        return aligned(signer, author)
    return False  # SPF vouches for the envelope sender, never for the From: header


def parsed(values: Iterable[str]) -> list[authres.AuthenticationResultsHeader]:
    """The headers authres can read, in order; a broken header is skipped, never trusted."""
    out = []
    for value in values:
        try:
            out.append(authres.AuthenticationResultsHeader.parse(
                "Authentication-Results: " + _FOLD.sub("", value)))
        except Exception:  # noqa: BLE001 - authres raises its own and stdlib errors on junk
            continue
    return out


def sender_trust(sender_email: str, results: Iterable[str], authserv_ids: Sequence[str]
                 ) -> Trust:
    """VERIFIED when a header of one of `authserv_ids` vouches for `sender_email`'s domain,
    else UNVERIFIED. With no authserv-id configured nobody is verified."""
    ours = {a.strip().lower() for a in authserv_ids if a.strip()}
    if not ours or "@" not in sender_email:
        return Trust.UNVERIFIED
    for header in parsed(results):
        if str(header.authserv_id or "").lower() not in ours:
            continue  # written by someone else (the sender, a relay): worth nothing
        if any(_vouches(r, sender_email) for r in header.results):
            return Trust.VERIFIED
    return Trust.UNVERIFIED


def mail_trust(mail: InboundMail, authserv_ids: Sequence[str]) -> Trust:
    return sender_trust(mail.sender_email, mail.authentication_results, authserv_ids)
