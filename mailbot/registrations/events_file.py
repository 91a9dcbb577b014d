"""Read the events TOML file (`[[event]]` tables) into EventInfo values."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from mailbot.errors import EventsFileError, read_toml
from mailbot.types import EventInfo

_REQUIRED = ("slug", "title", "starts")


def _when(raw: Any, key: str, where: str) -> datetime:
    if isinstance(raw, datetime):
        if raw.tzinfo is None:
            raise EventsFileError(f"{where}: {key} = {raw} needs a UTC offset, e.g. +01:00")
        return raw
    if isinstance(raw, date):
        raise EventsFileError(f"{where}: {key} = {raw} needs a time and a UTC offset")
    if isinstance(raw, str):
        try:
            return _when(datetime.fromisoformat(raw), key, where)
        except ValueError:
            pass
    raise EventsFileError(f"{where}: {key} = {raw!r} is not a date-time like 2027-02-25T14:00:00+01:00")


def event_from_table(t: dict[str, Any], where: str) -> EventInfo:
    missing = [k for k in _REQUIRED if not t.get(k)]
    if missing:
        raise EventsFileError(f"{where}: missing {', '.join(missing)}")
    slug = str(t["slug"])
    if not slug.replace("-", "").replace("_", "").isalnum() or slug != slug.lower():
        raise EventsFileError(f"{where}: slug {slug!r} may only hold a-z, 0-9, - and _")
    starts = _when(t["starts"], "starts", where)
    ends = _when(t["ends"], "ends", where) if t.get("ends") else starts
    if ends < starts:
        raise EventsFileError(f"{where}: ends before it starts")
    deadline = t.get("registration_deadline")
    if isinstance(deadline, date) and not isinstance(deadline, datetime):
        deadline = datetime.combine(deadline, time(23, 59, 59), starts.tzinfo)
    try:
        capacity = int(t.get("capacity", 0))
        reminder_days = int(t.get("reminder_days", 2))
        retention_days = int(t.get("retention_days", 30))
        confirm = t.get("confirm_hours")
        confirm_hours = int(confirm) if confirm not in (None, "", 0) else None
    except (TypeError, ValueError) as exc:
        raise EventsFileError(f"{where}: {exc}") from None
    if capacity < 0:
        raise EventsFileError(f"{where}: capacity must not be negative")
    language = str(t.get("language", "de"))
    if language not in ("de", "en"):
        raise EventsFileError(f"{where}: language {language!r} (use de or en)")
    return EventInfo(
        slug=slug, title=str(t["title"]), starts=starts, ends=ends,
        city=str(t.get("city", "")), venue=str(t.get("venue", "")), capacity=capacity,
        aliases=tuple(str(a) for a in t.get("aliases", [])), language=language,
        coordinators=tuple(str(c) for c in t.get("coordinators", [])),
        registration_deadline=_when(deadline, "registration_deadline", where) if deadline else None,
        reminder_days=reminder_days, confirm_hours=confirm_hours, retention_days=retention_days,
    )


def load_events(path: str | Path) -> list[EventInfo]:
    path = Path(path)
    data = read_toml(path, EventsFileError, "events file")
    tables = data.get("event", [])
    if not isinstance(tables, list):
        raise EventsFileError(f"{path}: use [[event]] tables")
    events = [event_from_table(t, f"{path}: event {i + 1}") for i, t in enumerate(tables)]
    slugs = [e.slug for e in events]
    dup = {s for s in slugs if slugs.count(s) > 1}
    if dup:
        raise EventsFileError(f"{path}: slug used twice: {', '.join(sorted(dup))}")
    return events
