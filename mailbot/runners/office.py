"""What coordinator commands by mail need from the later stages, handed to the apply chain:
the participant list as XLSX (reports.export) and a stored mail understood again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from mailbot.models import Event
from mailbot.reports import export
from mailbot.types import EventInfo, InboundMail, Intent


@dataclass
class Office:
    tz: ZoneInfo
    rules: Callable[[], Any]  # loaded on first use: most mails are no commands
    clock: Callable[[], datetime]

    def participant_list(self, s: Session, event: Event) -> tuple[str, bytes]:
        lang = export.lang_of(event)
        data = export.to_xlsx(export.event_rows(s, event), lang, self.tz, event.title)
        label = "teilnehmende" if lang == "de" else "participants"
        return f"{event.slug}-{label}-{self.clock().astimezone(self.tz):%Y-%m-%d}.xlsx", data

    def understand(self, raw: bytes, events: list[EventInfo]) -> tuple[InboundMail, Intent]:
        from mailbot.runners.intake import understand

        return understand(raw, events, self.rules(), self.clock())
