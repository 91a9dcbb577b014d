"""Folders and messages on an IMAP server: outcome folders by their server names (namespace
prefix, separator, created when missing), messages by Message-ID, moves with or without MOVE."""

from __future__ import annotations

import email.parser
import email.policy
import logging
from collections.abc import Sequence

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from mailbot.mailbox.imap_connect import describe

log = logging.getLogger("mailbot.mailbox.imap")

DELETED = b"\\Deleted"


def norm_id(value: str) -> str:
    return value.strip().strip("<>").strip()


def message_id_of(data: bytes) -> str | None:
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)
    value = headers.get("Message-ID")
    return norm_id(str(value)) if value else None


def find_by_message_id(client: IMAPClient, mid: str) -> list[int]:
    """UIDs in the selected folder whose Message-ID is exactly `mid`."""
    charset = None if mid.isascii() else "UTF-8"
    found = client.search(["HEADER", "Message-ID", mid, "NOT", "DELETED"], charset)
    if not found:
        return []
    # SEARCH HEADER matches substrings: confirm the exact id.
    heads = client.fetch(found, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    exact = []
    for uid, item in heads.items():
        raw = next((v for k, v in item.items() if k.startswith(b"BODY[HEADER")), b"")
        if message_id_of(bytes(raw or b"")) == mid:
            exact.append(int(uid))
    return sorted(exact)


def uid_set(uids: Sequence[int]) -> str:
    """A compact IMAP sequence set for sorted UIDs: "3:7,9,12:13"."""
    runs: list[list[int]] = []
    for uid in uids:
        if runs and uid == runs[-1][1] + 1:
            runs[-1][1] = uid
        else:
            runs.append([uid, uid])
    return ",".join(f"{a}:{b}" if a != b else str(a) for a, b in runs)


def transfer(client: IMAPClient, uids: Sequence[int], target: str, use_move: bool) -> None:
    """MOVE when the server has it (and `use_move`), else COPY, flag \\Deleted, EXPUNGE."""
    if use_move and client.has_capability("MOVE"):
        client.move(uids, target)
        return
    client.copy(uids, target)
    client.add_flags(uids, [DELETED], silent=True)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)
    else:
        # Without UIDPLUS, EXPUNGE also removes other \Deleted messages; nobody else is
        # expected to leave deleted mail in the registration inbox.
        client.expunge()


def server_folder(client: IMAPClient, configured: str, name: str) -> str:
    """The server name of the `configured` folder, created and subscribed when missing.
    Configured names use "/" for hierarchy; the personal namespace prefix is added when
    the server has one (Courier/Cyrus style "INBOX.") and the bare name does not exist.
    `name` is the mailbox's name for the log."""
    prefix, delim = "", "/"
    if client.has_capability("NAMESPACE"):
        personal = client.namespace().personal
        if personal:
            prefix, delim = personal[0][0] or "", personal[0][1] or delim
    else:
        listing = client.list_folders("", "")
        if listing and listing[0][1]:
            delim = listing[0][1].decode() if isinstance(listing[0][1], bytes) else listing[0][1]
    base = configured.replace("/", delim)
    if base.upper() == "INBOX":
        return "INBOX"
    candidates = [base]
    if prefix and not base.startswith(prefix):
        candidates.insert(0, prefix + base)
    existing = {name for _flags, _delim, name in client.list_folders()}
    found = next((c for c in candidates if c in existing), None)
    if found is None:
        found = candidates[0]
        try:
            client.create_folder(found)
            log.info("%s: created folder %s", name, found)
        except IMAPClientError as exc:
            if "ALREADYEXISTS" not in str(exc).upper():
                raise
        try:
            client.subscribe_folder(found)
        except IMAPClientError as exc:  # a folder works without a subscription
            log.info("%s: could not subscribe to %s (%s)", name, found, describe(exc))
    return found
