"""Render an OutgoingMail into an EmailMessage: templates by naming convention, headers, .ics."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_date
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    Environment,
    PackageLoader,
    StrictUndefined,
    TemplateNotFound,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

from mailbot.outbox import i18n
from mailbot.outbox.headers import (
    POLICY,
    _msgid,
    loop_value,
    one_line,
    parse_address,
    reply_subject,
)
from mailbot.outbox.headers import flat_message as flat_message  # moved; re-exported
from mailbot.outbox.ics import make_ics
from mailbot.types import LOOP_HEADER, OutgoingMail

FALLBACK_LANGUAGE = "de"

# What every template may use, so `{% if event %}` works where apply leaves a key out.
COMMON_DEFAULTS: dict[str, object] = {
    "name": "", "event": None, "seats": 0, "waiting_seats": 0, "position": None,
    "attendees": [], "original_subject": "", "organization": None,
}


# ---------------------------------------------------------------- filters


def _lang(ctx: Context) -> str:
    return str(ctx.get("_lang") or FALLBACK_LANGUAGE)


def _tz(ctx: Context) -> ZoneInfo:
    tz = ctx.get("_tz")
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo("Europe/Berlin")


def _dt(ctx: Context, value: object) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str | datetime):
        raise TypeError(f"not a date-time: {value!r}")
    return i18n.local(value, _tz(ctx))


@pass_context
def _f_date(ctx: Context, value: object) -> str:
    dt = _dt(ctx, value)
    return i18n.format_date(dt, _lang(ctx)) if dt else ""


@pass_context
def _f_time(ctx: Context, value: object) -> str:
    dt = _dt(ctx, value)
    return i18n.format_time(dt, _lang(ctx)) if dt else ""


@pass_context
def _f_datetime(ctx: Context, value: object) -> str:
    dt = _dt(ctx, value)
    return i18n.format_datetime(dt, _lang(ctx)) if dt else ""


@pass_context
def _f_when(ctx: Context, event: Mapping[str, object]) -> str:
    """Date and time of an event dict, one day or several."""
    starts = _dt(ctx, event.get("starts"))
    return i18n.format_span(starts, _dt(ctx, event.get("ends")), _lang(ctx)) if starts else ""


@pass_context
def _f_dates(ctx: Context, event: Mapping[str, object]) -> str:
    """Only the days of an event dict, short (subjects, lists)."""
    starts = _dt(ctx, event.get("starts"))
    return i18n.format_dates(starts, _dt(ctx, event.get("ends")), _lang(ctx)) if starts else ""


@pass_context
def _f_place(ctx: Context, event: Mapping[str, object]) -> str:
    return i18n.place(event, _lang(ctx))


@pass_context
def _f_seats(ctx: Context, n: object) -> str:
    return i18n.seats(int(str(n or 0)), _lang(ctx))


@pass_context
def _f_names(ctx: Context, names: object) -> str:
    if not isinstance(names, list | tuple):
        return str(names or "")
    items = [str(n.get("name") or n.get("email") or "") if isinstance(n, Mapping) else str(n)
             for n in names]
    return i18n.join_names(items, _lang(ctx))


def _f_quote(text: object) -> str:
    """Plain text quoted mail-style ("> " before every line)."""
    return "\n".join(f"> {line}".rstrip() for line in str(text or "").strip("\n").splitlines())


def _build_env() -> Environment:
    env = Environment(
        loader=PackageLoader("mailbot", "templates"),
        # <name>.<lang>.html is escaped; .txt and .subject are plain text by design.
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False,
                                     default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Partials end in a newline that `{% include %}` must keep (trim_blocks eats the one
        # after the tag).
        keep_trailing_newline=True,
        # The templates ship with the package and never change while mailbot runs: compiled
        # once, not stat()ed again for every part of every message.
        auto_reload=False,
    )
    env.filters.update(date=_f_date, time=_f_time, datetime=_f_datetime, when=_f_when,
                       dates=_f_dates, place=_f_place, seats=_f_seats, names=_f_names,
                       quote=_f_quote)
    return env


ENV = _build_env()


# ---------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    language: str  # the language actually used (after the fallback to German)


def template_names() -> list[str]:
    """Every template that has a German text part (partials start with "_")."""
    names = {n.split(".", 1)[0] for n in ENV.list_templates(extensions=["txt"])}
    return sorted(n for n in names if not n.startswith("_") and _exists(n, FALLBACK_LANGUAGE))


def _exists(template: str, lang: str) -> bool:
    try:
        ENV.get_template(f"{template}.{lang}.txt")
    except TemplateNotFound:
        return False
    return True


def _tidy_text(text: str) -> str:
    # "-- " is the signature delimiter that lets mail clients drop our footer when quoting.
    lines = [line.rstrip() if line.rstrip() != "--" else "-- "
             for line in text.strip("\n").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def render(template: str, language: str, context: Mapping[str, object], tz: ZoneInfo,
           sender_name: str = "", has_calendar: bool = False) -> Rendered:
    """Subject, text and HTML of `template` in `language` (German when that one is missing)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", template):
        raise ValueError(f"bad template name {template!r}")
    lang = language if language in i18n.LANGUAGES and _exists(template, language) \
        else FALLBACK_LANGUAGE
    if not _exists(template, lang):
        raise TemplateNotFound(f"{template}.{lang}.txt")
    ctx: dict[str, Any] = {**COMMON_DEFAULTS, **context, "_lang": lang, "_tz": tz,
                           "language": lang, "sender_name": sender_name,
                           "has_calendar": has_calendar}
    subject = one_line(ENV.get_template(f"{template}.{lang}.subject").render(ctx))
    ctx["subject"] = subject
    text = _tidy_text(ENV.get_template(f"{template}.{lang}.txt").render(ctx))
    html = ENV.get_template(f"{template}.{lang}.html").render(ctx).strip() + "\n"
    return Rendered(subject, text, html, lang)


@dataclass(frozen=True)
class Prepared:
    """What a message is made of, before it is laid out as an EmailMessage or as bytes."""

    headers: list[tuple[str, str | Address]]  # in order, up to Content-Language (added last)
    rendered: Rendered
    calendar: tuple[bytes, str] | None  # the .ics and its METHOD
    attachments: tuple[tuple[str, str, bytes], ...]


def prepare(mail: OutgoingMail, from_addr: str, tz: ZoneInfo) -> Prepared:
    """Headers, texts and parts of one outbox row; raises ValueError for an unusable address."""
    sender = parse_address(from_addr)
    name = mail.context.get("name")
    recipient = parse_address(mail.to, display_name=str(name) if name else "")
    rendered = render(mail.template, mail.language, mail.context, tz,
                      sender_name=sender.display_name, has_calendar=mail.ics is not None)
    headers: list[tuple[str, str | Address]] = [("From", sender), ("To", recipient)]
    original = one_line(mail.context.get("original_subject") or "")
    answering = bool(mail.in_reply_to and original and mail.auto_submitted == "auto-replied")
    headers.append(("Subject", reply_subject(original) if answering else rendered.subject))
    headers.append(("Date", rfc2822_date(datetime.now(tz))))
    own_id = _msgid(mail.message_id)
    if own_id is None:
        raise ValueError(f"bad Message-ID {mail.message_id!r}")
    headers.append(("Message-ID", own_id))
    parent = _msgid(mail.in_reply_to) if mail.in_reply_to else None
    refs = [r for r in (_msgid(x) for x in mail.references) if r]
    if parent:
        headers.append(("In-Reply-To", parent))
        if parent not in refs:
            refs.append(parent)
    if refs:
        headers.append(("References", " ".join(refs)))
    if mail.reply_to:
        headers.append(("Reply-To", parse_address(mail.reply_to)))
    headers.append(("Auto-Submitted", one_line(mail.auto_submitted) or "auto-replied"))
    # Exchange/Outlook honour this and send no out-of-office or read receipts back to us.
    headers.append(("X-Auto-Response-Suppress", "All"))
    headers.append((LOOP_HEADER, loop_value(mail.message_id)))
    calendar = None
    if mail.ics is not None:
        ics = dict(mail.ics)
        event = mail.context.get("event")
        if not ics.get("city") and isinstance(event, Mapping):
            ics["city"] = event.get("city") or ""
        data = make_ics(ics, str(sender), str(recipient), language=rendered.language)
        calendar = (data, str(ics.get("method") or "REQUEST").upper())
    attachments = tuple((one_line(f), m, d) for f, m, d in mail.attachments)
    return Prepared(headers, rendered, calendar, attachments)


def make_message(mail: OutgoingMail, from_addr: str, tz: ZoneInfo) -> EmailMessage:
    """The complete message for one outbox row; raises ValueError for an unusable address."""
    p = prepare(mail, from_addr, tz)
    msg = EmailMessage(policy=POLICY)
    for name, value in p.headers:
        msg[name] = value
    msg.set_content(p.rendered.text)
    msg.add_alternative(p.rendered.html, subtype="html")
    if p.calendar is not None:
        data, method = p.calendar
        msg.add_attachment(data, maintype="text", subtype="calendar", filename="invite.ics",
                           params={"method": method, "charset": "utf-8"})
    for filename, mime, data in p.attachments:
        maintype, _, subtype = mime.partition("/")
        params = {"charset": "utf-8"} if maintype == "text" else {}  # the CSV shown inline
        msg.add_attachment(data, maintype=maintype or "application",
                           subtype=subtype or "octet-stream", filename=filename,
                           params=params)
    # Last: turning the body into multipart moves every Content-* header into the first part.
    msg["Content-Language"] = p.rendered.language
    return msg
