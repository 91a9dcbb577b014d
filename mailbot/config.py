"""Settings from mailbot.toml and MAILBOT_* variables (+ *_FILE secrets); the only reader of os.environ."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, replace
from datetime import time
from email.headerregistry import Address
from email.utils import parseaddr
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailbot.config_values import (
    _BOOL,
    _IMAP,
    _SMTP,
    ServerUrl,
    _names,
    parse_listen,
    parse_server_url,
)
from mailbot.config_values import url_without_password as url_without_password  # moved; re-exported
from mailbot.errors import ConfigError, read_toml
from mailbot.types import Outcome, TrustPolicy

DEFAULT_FROM = "mailbot <anmeldung@localhost>"
MAX_INTAKE_BATCH = 5000  # two batches of large mails must still fit in memory
MAX_SMTP_CONNECTIONS = 16  # beyond a few, a mail server sees a flood, not a client


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///mailbot.db"
    mailbox_url: str | None = None
    mailbox_password: str | None = None
    smtp_url: str | None = None
    smtp_password: str | None = None
    from_addr: str = DEFAULT_FROM
    timezone: str = "Europe/Berlin"
    rules_dir: Path | None = None
    events_file: Path | None = None
    folders: dict[Outcome, str] = field(default_factory=lambda: {o: o.value for o in Outcome})
    poll_seconds: float = 60.0
    digest_time: time = time(7, 30)
    digest_when_empty: bool = False
    reply_limit_per_day: int = 10
    min_confidence: float = 0.6
    send_retries: int = 8
    retry_seconds: float = 60.0
    log_level: str = "INFO"
    lmtp_listen: str | None = None  # "host:port" or a unix socket path (LMTP intake)
    lmtp_max_bytes: int = 25 * 1024 * 1024
    intake_batch: int = 200  # mails taken in per transaction (and per MOVE) from a backlog
    smtp_connections: int = 4  # at most this many SMTP connections send a large batch at once
    learned_model: bool = True
    trusted_authserv: tuple[str, ...] = ()  # authserv-ids of our mail server (Authentication-Results)
    confirm_hours: int = 48  # how long a confirmation request of an unverified sender is valid

    @property
    def trust(self) -> TrustPolicy:
        """Whose Authentication-Results count, and how long confirmation requests last."""
        return TrustPolicy(self.trusted_authserv, self.confirm_hours)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    # read once: every reply and every mail taken in asks (the address parser, ~2 % of the
    # worker's time in a burst); cached_property writes past the frozen dataclass's __setattr__
    @cached_property
    def from_address(self) -> Address:
        name, addr = parseaddr(self.from_addr)
        user, _, domain = addr.partition("@")
        return Address(display_name=name, username=user, domain=domain)

    @cached_property
    def own_domain(self) -> str:
        return self.from_address.domain or "localhost"

    def imap(self) -> ServerUrl:
        if not self.mailbox_url:
            raise ConfigError("MAILBOT_MAILBOX_URL is not set (e.g. imaps://user@imap.example/INBOX"
                              " or maildir:///srv/mail/anmeldung)")
        u = parse_server_url(self.mailbox_url, _IMAP, "MAILBOT_MAILBOX_URL", ("maildir",))
        if u.scheme != "maildir" and u.password is None:
            if not self.mailbox_password:
                raise ConfigError("the mailbox needs a password: set MAILBOT_MAILBOX_PASSWORD or "
                                  "MAILBOT_MAILBOX_PASSWORD_FILE")
            u = replace(u, password=self.mailbox_password)
        return u

    def smtp(self) -> ServerUrl:
        if not self.smtp_url:
            raise ConfigError("MAILBOT_SMTP_URL is not set (e.g. smtps://user@smtp.example:465 or"
                              " file:///path/to/dir)")
        u = parse_server_url(self.smtp_url, _SMTP, "MAILBOT_SMTP_URL", ("file",))
        if u.username and u.password is None and self.smtp_password:
            u = replace(u, password=self.smtp_password)
        if u.username and u.password is None:
            raise ConfigError("SMTP user given but no password: set MAILBOT_SMTP_PASSWORD or "
                              "MAILBOT_SMTP_PASSWORD_FILE")
        return u

    def lmtp(self) -> tuple[str, int] | str:
        """Where the LMTP intake listens: (host, port), or the path of a unix socket."""
        return parse_listen(self.lmtp_listen or "")

    def validate(self) -> Settings:
        """Check every value that can be checked without a network; returns self."""
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"MAILBOT_TIMEZONE: unknown time zone {self.timezone!r}"
                              " (e.g. Europe/Berlin)") from None
        if self.mailbox_url:
            self.imap()
        if self.smtp_url:
            self.smtp()
        if self.lmtp_listen:
            self.lmtp()
        if self.lmtp_max_bytes < 1:
            raise ConfigError(f"MAILBOT_LMTP_MAX_BYTES: {self.lmtp_max_bytes} must be at least 1"
                              " (the largest mail the LMTP intake accepts, in bytes)")
        if not 1 <= self.intake_batch <= MAX_INTAKE_BATCH:
            raise ConfigError(f"MAILBOT_INTAKE_BATCH: {self.intake_batch} must be between 1 and"
                              f" {MAX_INTAKE_BATCH} (mails taken in per transaction; a batch and"
                              " the next are held in memory at once)")
        if not 1 <= self.smtp_connections <= MAX_SMTP_CONNECTIONS:
            raise ConfigError(f"MAILBOT_SMTP_CONNECTIONS: {self.smtp_connections} must be between 1"
                              f" and {MAX_SMTP_CONNECTIONS} (connections a large batch of replies"
                              " is sent over at once; 1 for a server that allows only one)")
        if self.confirm_hours < 1:
            raise ConfigError(f"MAILBOT_CONFIRM_HOURS: {self.confirm_hours} must be at least 1"
                              " (hours a confirmation request of an unverified sender is valid)")
        if "@" not in self.from_address.addr_spec:
            raise ConfigError(f"MAILBOT_FROM: {self.from_addr!r} has no e-mail address")
        if not self.database_url or "://" not in self.database_url:
            raise ConfigError(f"MAILBOT_DATABASE_URL: {self.database_url!r} is not a database URL"
                              " (e.g. sqlite:///mailbot.db)")
        if self.rules_dir is not None and not self.rules_dir.is_dir():
            raise ConfigError(f"rules directory {self.rules_dir} does not exist")
        return self


def default_rules_dir() -> Path:
    """rules/ beside the package in a checkout, else the installed copy in share/mailbot."""
    here = Path(__file__).resolve().parent.parent / "rules"
    if here.is_dir():
        return here
    for base in (Path(sys.prefix), Path(sys.base_prefix), Path("/usr/local"), Path("/usr")):
        cand = base / "share" / "mailbot" / "rules"
        if cand.is_dir():
            return cand
    return here


def _secret(env: dict[str, str], name: str, file_values: dict[str, object]) -> str | None:
    if env.get(name):
        return env[name]
    path = env.get(name + "_FILE") or file_values.get(name.lower().removeprefix("mailbot_") + "_file")
    if path:
        try:
            return Path(str(path)).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE: cannot read {path} ({exc.strerror})") from None
    value = file_values.get(name.lower().removeprefix("mailbot_"))
    return str(value) if value is not None else None


def load_settings(config_path: str | Path | None = None,
                  env: dict[str, str] | None = None) -> Settings:
    """Read `--config`, else $MAILBOT_CONFIG, else ./mailbot.toml; the environment wins."""
    env = dict(os.environ if env is None else env)
    path = Path(config_path) if config_path else (
        Path(env["MAILBOT_CONFIG"]) if env.get("MAILBOT_CONFIG") else None)
    values: dict[str, object] = {}
    if path is None and Path("mailbot.toml").is_file():
        path = Path("mailbot.toml")
    if path is not None:
        values = {k.lower(): v for k, v in
                  read_toml(path, ConfigError, "configuration file").items()}

    def get(key: str, default: object = None) -> object:
        envname = "MAILBOT_" + key.upper()
        if env.get(envname):
            return env[envname]
        return values.get(key, default)

    def number(key: str, default: float, kind: type = float) -> float:
        raw = get(key, default)
        try:
            val = kind(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"MAILBOT_{key.upper()}: {raw!r} is not a number") from None
        if val < 0:
            raise ConfigError(f"MAILBOT_{key.upper()}: {raw!r} must not be negative")
        return val

    def flag(key: str, default: bool) -> bool:
        raw = get(key, default)
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() not in _BOOL:
            raise ConfigError(f"MAILBOT_{key.upper()}: {raw!r} is not yes/no")
        return _BOOL[str(raw).lower()]

    raw_time = str(get("digest_time", "07:30"))
    try:
        hh, mm = raw_time.split(":")
        digest_time = time(int(hh), int(mm))
    except ValueError:
        raise ConfigError(f"MAILBOT_DIGEST_TIME: {raw_time!r} is not a time like 07:30") from None

    folders = {o: o.value for o in Outcome}
    raw_folders = values.get("folders", {})
    if isinstance(raw_folders, dict):
        for o in Outcome:
            name = env.get(f"MAILBOT_FOLDER_{o.value.upper()}") or raw_folders.get(o.value)
            if name:
                folders[o] = str(name)

    rules = get("rules_dir")
    events = get("events_file")
    settings = Settings(
        database_url=str(get("database_url", "sqlite:///mailbot.db")),
        mailbox_url=str(get("mailbox_url")) if get("mailbox_url") else None,
        mailbox_password=_secret(env, "MAILBOT_MAILBOX_PASSWORD", values),
        smtp_url=str(get("smtp_url")) if get("smtp_url") else None,
        smtp_password=_secret(env, "MAILBOT_SMTP_PASSWORD", values),
        from_addr=str(get("from", DEFAULT_FROM)),
        timezone=str(get("timezone", "Europe/Berlin")),
        rules_dir=Path(str(rules)) if rules else default_rules_dir(),
        events_file=Path(str(events)) if events else None,
        folders=folders,
        poll_seconds=number("poll_seconds", 60.0),
        digest_time=digest_time,
        digest_when_empty=flag("digest_when_empty", False),
        reply_limit_per_day=int(number("reply_limit_per_day", 10, int)),
        min_confidence=number("min_confidence", 0.6),
        send_retries=int(number("send_retries", 8, int)),
        retry_seconds=number("retry_seconds", 60.0),
        log_level=str(get("log_level", "INFO")).upper(),
        lmtp_listen=str(get("lmtp_listen")) if get("lmtp_listen") else None,
        lmtp_max_bytes=int(number("lmtp_max_bytes", 25 * 1024 * 1024, int)),
        intake_batch=int(number("intake_batch", 200, int)),
        smtp_connections=int(number("smtp_connections", 4, int)),
        learned_model=flag("learned_model", True),
        trusted_authserv=_names(get("trusted_authserv", ())),
        confirm_hours=int(number("confirm_hours", 48, int)),
    )
    return settings.validate()


def learned_model_setting() -> bool:
    """MAILBOT_LEARNED_MODEL (learned_model in the file): may the learned intent model decide
    where the rules could not? On unless switched off; a configuration that cannot be read
    leaves it on (the command reading it reports the error itself)."""
    try:
        return load_settings().learned_model
    except ConfigError:
        return True


def cache_dir(env: dict[str, str] | None = None) -> Path | None:
    """Where mailbot keeps what it can make again (the trained intent model): MAILBOT_CACHE_DIR,
    else $XDG_CACHE_HOME/mailbot, else ~/.cache/mailbot; None without a home directory."""
    env = dict(os.environ) if env is None else env
    if env.get("MAILBOT_CACHE_DIR"):
        return Path(env["MAILBOT_CACHE_DIR"]).expanduser()
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():  # the XDG rule: a relative path is ignored
        return Path(xdg) / "mailbot"
    try:
        return Path.home() / ".cache" / "mailbot"
    except RuntimeError:
        return None
