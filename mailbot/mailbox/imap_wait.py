"""Waiting for new mail on an open IMAP connection: IDLE (with Dovecot's habits) or polling."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from imapclient import IMAPClient

from mailbot.mailbox.imap_connect import ConnectionLost


def has_newer(client: IMAPClient, newest_uid: int) -> bool:
    """Anything in the inbox with a UID above what fetch_new handed out?"""
    # Dovecot searches the view the session had when the command began, and announces a
    # message that arrived meanwhile only by an EXISTS at the end of the reply; IDLE never
    # announces it again. So: forget older EXISTS replies (what they announced is in the
    # view this SEARCH sees), and count one that comes with the SEARCH as "look again".
    pending = client._imap.untagged_responses
    pending.pop("EXISTS", None)
    found = client.search(["UID", f"{newest_uid + 1}:*", "NOT", "DELETED"])
    # "n:*" always matches the highest UID, even when that is below n.
    return any(int(u) > newest_uid for u in found) or bool(pending.pop("EXISTS", None))


def poll(client: IMAPClient, end: float, interval: float, newer: Callable[[], bool]) -> bool:
    """NOOP every `interval` seconds until `newer()` says so or the end comes."""
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(left, interval))
        client.noop()
        if newer():
            return True


def idle(client: IMAPClient, end: float, refresh: float) -> bool:
    """IDLE until something arrives or the end comes, restarted every `refresh` seconds."""
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False
        stop = time.monotonic() + min(left, refresh)
        client.idle()
        # On any exception in between, _run drops the connection: no DONE needed then.
        # Dovecot reports what changed since our last command right after "+ idling", often
        # in the same packet: imaplib has read it already, and idle_check() only polls the
        # socket, so it would sit there until the next change. DONE hands it over.
        arrived = False if _buffered(client) else _idle_until(client, stop)
        _text, late = client.idle_done()
        if arrived or _arrival(late):
            return True


def _buffered(client: IMAPClient) -> bool:
    """Has imaplib read bytes from the server that nobody has parsed yet?"""
    sock = client.socket()
    timeout = sock.gettimeout()
    sock.setblocking(False)  # peek() must not wait for the server when nothing is there
    try:
        return bool(client._imap.file.peek(1))
    except OSError:  # e.g. TLS wants more bytes: then nothing complete is buffered
        return False
    finally:
        sock.settimeout(timeout)


def _idle_until(client: IMAPClient, stop: float) -> bool:
    while True:
        left = stop - time.monotonic()
        if left <= 0:
            return False
        began = time.monotonic()
        responses = client.idle_check(timeout=left)
        if _arrival(responses):
            return True
        if not responses and time.monotonic() - began < left - 0.05:
            # idle_check returns early and empty only when the socket hit EOF.
            raise ConnectionLost("the server closed the connection")


def _arrival(responses: Sequence[Any]) -> bool:
    for resp in responses:
        if len(resp) >= 2 and resp[1] == b"EXISTS":
            return True
        if len(resp) >= 2 and resp[1] == b"RECENT" and resp[0]:
            return True
        if resp and resp[0] == b"BYE":
            raise ConnectionLost("the server said BYE")
    return False
