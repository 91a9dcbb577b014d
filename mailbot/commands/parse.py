"""`mailbot parse`: classify .eml files offline, one JSON line (or a short summary) per file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mailbot.types import EventInfo, InboundMail, Intent, IntentKind


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--events", help="events TOML file (no database needed)")
    parser.add_argument("--json", action="store_true",
                        help="JSON lines (default: a readable summary)")
    parser.set_defaults(func=cmd_parse)


def events_for_parse(args: argparse.Namespace) -> list[EventInfo]:
    """The events to match against: the --events file, else those in the configured database
    when it already exists (parse never creates or migrates one), else none."""
    if getattr(args, "events", None):
        from mailbot.registrations.events_file import load_events

        return load_events(args.events)
    return _events_from_database(args)


def _events_from_database(args: argparse.Namespace) -> list[EventInfo]:
    from pathlib import Path

    from mailbot.config import load_settings

    settings = load_settings(Path(args.config) if getattr(args, "config", None) else None)
    url = settings.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return []
    from sqlalchemy import select

    from mailbot.database import Database, is_migrated
    from mailbot.models import Event

    db = Database(url, auto_migrate=False)
    try:
        if not is_migrated(db.engine):
            return []
        with db.session() as s:
            return [e.info() for e in s.scalars(select(Event).where(Event.purged_at.is_(None)))]
    finally:
        db.dispose()


def result(path: str, mail: InboundMail, intent: Intent) -> dict[str, Any]:
    """One output object in the shape INTERFACE.md documents (plus a few extra fields)."""
    return {
        "file": path, "intent": intent.kind.value, "event": intent.event,
        "attendees": [a.as_json() for a in intent.attendees],
        "organization": intent.organization, "party_size": intent.party_size,
        "has_question": intent.has_question, "language": intent.language,
        "auto_generated": intent.kind.is_machine or bool(mail.auto_markers) or mail.ours,
        "bounced_recipients": list(mail.bounced_recipients), "text": mail.text,
        "confidence": intent.confidence, "candidate_events": list(intent.candidate_events),
        "cancel_seats": intent.cancel_seats, "accepts_offer": intent.accepts_offer,
        "substitute": intent.substitute.as_json() if intent.substitute else None,
        "question": intent.question, "reasons": list(intent.reasons),
        "message_id": mail.message_id, "defects": list(mail.defects),
    }


# Characters that str.splitlines() treats as line ends although JSON leaves them raw.
_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085",
                              "\x1c": "\\u001c", "\x1d": "\\u001d", "\x1e": "\\u001e"})


def json_line(obj: dict[str, Any]) -> str:
    """One JSON object on exactly one line, whatever characters the mail held."""
    return json.dumps(obj, ensure_ascii=False).translate(_LINE_BREAKS)


def _error(path: str, why: str) -> dict[str, Any]:
    return {"file": path, "intent": IntentKind.OTHER.value, "event": None, "attendees": [],
            "organization": None, "party_size": 0, "has_question": False, "language": "de",
            "auto_generated": False, "bounced_recipients": [], "text": "", "confidence": 0.0,
            "error": why}


def _summary(obj: dict[str, Any]) -> str:
    if "error" in obj:
        return f"{obj['file']}: other (error: {obj['error']})"
    people = ", ".join(a["name"] or a["email"] or "?" for a in obj["attendees"]) or "-"
    event = obj["event"] or ("? " + "/".join(obj["candidate_events"])
                             if obj["candidate_events"] else "-")
    extra = " +question" if obj["has_question"] else ""
    bounced = f" bounced: {', '.join(obj['bounced_recipients'])}" \
        if obj["bounced_recipients"] else ""
    return (f"{obj['file']}: {obj['intent']} {event} [{people}] seats={obj['party_size']}"
            f"{extra} conf={obj['confidence']:.2f}{bounced}")


def cmd_parse(args: argparse.Namespace) -> int:
    from mailbot.classify import classify, load_default_rules
    from mailbot.parse import parse

    rules = load_default_rules()
    events = events_for_parse(args)
    for path in args.files:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            obj = _error(path, f"cannot read: {exc.strerror or exc}")
        else:
            mail = parse(data, rules)
            try:
                obj = result(path, mail, classify(mail, events, rules))
            except Exception as exc:  # noqa: BLE001 - one bad mail must not stop the batch
                obj = _error(path, f"classify failed: {type(exc).__name__}: {exc}")
        line = json_line(obj) if args.json else _summary(obj).translate(_LINE_BREAKS)
        sys.stdout.write(line + "\n")
    sys.stdout.flush()
    return 0
