"""Pure parsers of configuration values (server URLs, listen addresses, flags, name lists);
config.py reads the files and the environment and hands the raw values here."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from mailbot.errors import ConfigError


@dataclass(frozen=True)
class ServerUrl:
    """A parsed mailbox or SMTP URL: `tls` is "implicit", "starttls" or "none"."""

    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None
    path: str  # IMAP folder ("INBOX"), Maildir or file directory
    tls: str
    verify: bool = True

    @property
    def display(self) -> str:
        """The URL without the password, for messages and the mailbox identity."""
        user = f"{self.username}@" if self.username else ""
        if self.scheme in ("maildir", "file"):
            return f"{self.scheme}://{self.path}"
        return f"{self.scheme}://{user}{self.host}:{self.port}/{self.path}"


_IMAP = {"imaps": ("implicit", 993), "imap": ("starttls", 143), "imap+plain": ("none", 143),
         "imap+insecure": ("starttls", 143)}
_SMTP = {"smtps": ("implicit", 465), "smtp": ("starttls", 587), "smtp+plain": ("none", 25),
         "smtp+insecure": ("starttls", 587)}


def parse_server_url(url: str, kinds: dict[str, tuple[str, int]], what: str,
                     local: tuple[str, ...]) -> ServerUrl:
    """Parse an imap(s)/smtp(s)/maildir/file URL; `+insecure` keeps TLS but skips the certificate
    check (for self-signed servers, explicitly asked for)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{what}: {url_without_password(url)!r} is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme in local:
        path = unquote(parts.path or "")
        if parts.netloc and parts.netloc != "localhost":
            path = "/" + parts.netloc + path if not path.startswith("/") else parts.netloc + path
        if not path:
            raise ConfigError(f"{what}: {url!r} names no directory (use {scheme}:///absolute/path)")
        return ServerUrl(scheme, "", 0, None, None, path, "none")
    if scheme not in kinds:
        known = ", ".join(sorted([*kinds, *local]))
        raise ConfigError(f"{what}: unknown URL scheme {scheme + '://' if scheme else url!r}"
                          f" (known: {known})")
    if not parts.hostname:
        raise ConfigError(f"{what}: {url_without_password(url)!r} names no host")
    tls, default_port = kinds[scheme]
    if port is not None and not 0 < port < 65536:
        raise ConfigError(f"{what}: port {port} is out of range")
    return ServerUrl(
        scheme=scheme, host=parts.hostname, port=port or default_port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        path=unquote(parts.path.lstrip("/")) or "INBOX", tls=tls,
        verify=not scheme.endswith("+insecure"),
    )


def url_without_password(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def parse_listen(value: str) -> tuple[str, int] | str:
    """MAILBOT_LMTP_LISTEN: "127.0.0.1:2424", "[::1]:2424", or an absolute unix socket path."""
    if value.startswith("/"):
        return value
    host, sep, port = value.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if sep and host and port.isdigit() and 0 < int(port) < 65536:
        return host, int(port)
    raise ConfigError(f"MAILBOT_LMTP_LISTEN: {value!r} is neither host:port (e.g. 127.0.0.1:2424)"
                      " nor an absolute path of a unix socket (e.g. /run/mailbot/lmtp.sock)")


_BOOL = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False,
         "off": False}


def _names(raw: object) -> tuple[str, ...]:
    """A TOML list, or one string of names separated by commas or spaces."""
    items = raw if isinstance(raw, list | tuple) else str(raw or "").replace(",", " ").split()
    return tuple(str(i).strip().lower() for i in items if str(i).strip())
