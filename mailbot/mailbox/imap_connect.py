"""Opening an IMAP connection as the URL says (implicit TLS, STARTTLS or none), and its errors."""

from __future__ import annotations

import logging
import socket
import ssl

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from mailbot.config import ServerUrl
from mailbot.errors import MailboxError

log = logging.getLogger("mailbot.mailbox.imap")

# Socket errors (incl. timeouts and TLS errors), imaplib's abort/error and anything a dropped
# connection surfaces as inside imapclient's parser.
RETRYABLE: tuple[type[BaseException], ...] = (OSError, IMAPClientError, EOFError)


class Permanent(MailboxError):
    """A problem no reconnect can fix (no STARTTLS, bad credentials, bad certificate)."""


class GaveUp(MailboxError):
    """The caller's retry budget is used up."""


class ConnectionLost(ConnectionError):
    """The server closed the connection (BYE or EOF) while we were idling."""


def describe(exc: BaseException) -> str:
    """One line about a network error; never contains the password (we never send it in one)."""
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    if isinstance(exc, TimeoutError):
        return f"timed out ({text})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"{exc.__class__.__name__}: {text}"[:300]



def ssl_context(url: ServerUrl) -> ssl.SSLContext:
    """Certificate checks on, unless the URL is an explicit +insecure one."""
    ctx = ssl.create_default_context()
    if not url.verify:
        # imap+insecure: TLS against a self-signed server, explicitly asked for in the URL.
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def open_connection(url: ServerUrl, password: str, name: str, timeout: float) -> IMAPClient:
    """A logged-in connection; `name` is the mailbox's name for messages."""
    tls = url.tls
    try:
        client = IMAPClient(url.host, url.port, ssl=tls == "implicit",
                            ssl_context=ssl_context(url) if tls == "implicit" else None,
                            timeout=timeout)
    except ssl.SSLCertVerificationError as exc:
        raise Permanent(f"{name}: certificate check failed ({exc.verify_message})"
                        ) from None
    try:
        if tls == "starttls":
            if not client.has_capability("STARTTLS"):
                raise Permanent(
                    f"{name}: the server does not offer STARTTLS, which {url.scheme}://"
                    " requires (use imaps:// for TLS on connect, or imap+plain:// for an"
                    " unencrypted local test server)")
            try:
                client.starttls(ssl_context(url))
            except ssl.SSLCertVerificationError as exc:
                raise Permanent(f"{name}: certificate check failed"
                                f" ({exc.verify_message})") from None
        try:
            client.login(url.username or "", password)
        except LoginError as exc:
            if "UNAVAILABLE" in str(exc).upper():
                raise  # the server's backend is down for a moment: retry
            raise Permanent(f"{name}: login refused ({' '.join(str(exc).split())})"
                            ) from None
    except BaseException:
        shutdown(client)
        raise
    return client


def keepalive(client: IMAPClient) -> None:
    """TCP keepalive, so a server that vanished without a FIN (network gone, VM paused) is
    noticed within ~2 minutes even in the middle of a long IDLE."""
    sock = client.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 15), ("TCP_KEEPCNT", 4)):
        if hasattr(socket, name):  # Linux names; other systems keep their defaults
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


def shutdown(client: IMAPClient) -> None:
    try:
        client.shutdown()
    except Exception:  # already broken: nothing left to release
        log.debug("shutdown of a broken connection failed", exc_info=True)
