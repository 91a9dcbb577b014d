"""`mailbot demo`: the whole job on embedded defaults: SQLite, a Maildir inbox, .eml files out."""

from __future__ import annotations

import argparse
import logging
import mailbox as stdlib_mailbox
import shutil
import time
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from mailbot.config import load_settings
from mailbot.errors import UserError
from mailbot.models import InboundRecord, OutboxRow
from mailbot.registrations.event_changes import import_events, set_venue
from mailbot.runners.worker import Worker

MARKER = ".mailbot-demo"

EVENTS = """\
# Demo events, dated relative to the day the demo runs.
[[event]]
slug = "werkstatt-2027"
title = "Werkstattgespräch „Vernetzt in Niedersachsen“"
starts = {werkstatt}T14:00:00{werkstatt_off}
ends = {werkstatt}T17:00:00{werkstatt_off}
city = "Hannover"
venue = ""
capacity = 5
aliases = ["Werkstattgespräch", "Werkstatt", "Vernetzt in Niedersachsen"]
language = "de"
coordinators = ["koordination@mitgen.example"]

[[event]]
slug = "fachtag-2027"
title = "Fachtag „Gleichstellung im Wandel“"
starts = {fachtag}T10:00:00{fachtag_off}
ends = {fachtag}T16:30:00{fachtag_off}
city = "Hannover"
venue = "Kulturzentrum Pavillon, Lister Meile 4, 30161 Hannover"
capacity = 120
aliases = ["Fachtag", "Gleichstellung im Wandel"]
language = "de"
coordinators = ["koordination@mitgen.example"]
"""


def _berlin_offset(day: date) -> str:
    """+01:00 or +02:00: the demo's events keep their local times across daylight saving."""
    off = datetime.combine(day, datetime.min.time(), ZoneInfo("Europe/Berlin")).strftime("%z")
    return f"{off[:3]}:{off[3:]}"


def _prepare(folder: Path) -> Path:
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise UserError(f"{folder} exists and is not a mailbot demo folder; "
                            "choose another with --dir")
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("made by mailbot demo\n")
    today = datetime.now(UTC).date()
    werkstatt, fachtag = today + timedelta(days=60), today + timedelta(days=120)
    (folder / "events.toml").write_text(EVENTS.format(
        werkstatt=werkstatt, fachtag=fachtag, werkstatt_off=_berlin_offset(werkstatt),
        fachtag_off=_berlin_offset(fachtag)), encoding="utf-8")
    root = folder.resolve()
    (folder / "mailbot.toml").write_text(
        f'database_url = "sqlite:///{root}/mailbot.db"\n'
        f'mailbox_url = "maildir://{root}/inbox"\n'
        f'smtp_url = "file://{root}/sent"\n'
        'from = "MitGeN Anmeldung <anmeldung@mitgen.example>"\n'
        'timezone = "Europe/Berlin"\n'
        'log_level = "WARNING"\n'
        # the sample mails carry our (imagined) mail server's DKIM/DMARC verdict: the
        # cancellation among them comes from its address, so it is carried out at once
        'trusted_authserv = "mx.mitgen.example"\n', encoding="utf-8")
    inbox = stdlib_mailbox.Maildir(str(folder / "inbox"), create=True)
    start = datetime.now(UTC) - timedelta(minutes=30)
    samples = sorted((p for p in resources.files("mailbot.samples").iterdir()
                      if p.name.endswith(".eml")), key=lambda p: p.name)
    for i, sample in enumerate(samples):
        data = sample.read_bytes()
        date = format_datetime(start + timedelta(minutes=2 * i)).encode()
        msg = stdlib_mailbox.MaildirMessage(b"Date: " + date + b"\r\n" + data)
        inbox.add(msg)
        time.sleep(0.01)  # distinct delivery times keep the arrival order
    return folder


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", default="mailbot-demo",
                        help="folder to create (default: ./mailbot-demo)")
    parser.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from mailbot.commands.common import worker

    folder = _prepare(Path(args.dir))
    settings = load_settings(folder / "mailbot.toml", env={})
    logging.getLogger().setLevel(settings.log_level)
    w: Worker = worker(settings, mailbox=True, transport=True)
    from mailbot.registrations.events_file import load_events

    with w.db.session() as s:
        res = import_events(s, w.mailer(s), load_events(folder / "events.toml"))
    print(f"demo folder: {folder.resolve()}")
    print(f"events: {res.created} imported from {folder / 'events.toml'}")
    handled = w.intake_pass()
    print(f"\ninbox: {handled} mail(s) handled")
    with w.db.session() as s:
        for rec in s.scalars(select(InboundRecord).order_by(InboundRecord.id)):
            print(f"  #{rec.id:<3} {rec.intent:<10} {rec.event_slug or '-':<16} -> "
                  f"{rec.outcome.value:<10} {rec.subject[:48]}")
    with w.db.session() as s:
        n = set_venue(s, w.mailer(s), "werkstatt-2027",
                      "Freizeitheim Linden, Windheimstraße 4, 30451 Hannover")
    print(f"\nvenue of werkstatt-2027 set: {n} venue notice(s) queued")
    sent = w.delivery_pass()
    with w.db.session() as s:
        rows = s.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
        print(f"\noutbox: {sent} mail(s) written to {folder.resolve() / 'sent'}")
        for row in rows:
            print(f"  {row.template:<22} to {row.to_addr:<45} {row.status.value}")
    from mailbot.commands.digest import cmd_digest
    from mailbot.commands.events import cmd_list

    cfg = argparse.Namespace(settings=settings, json=False, verbose=False, print_=True,
                             send=False)
    print()
    cmd_list(cfg)
    print("\nthe coordinators' digest (mailbot digest --print):\n")
    cmd_digest(cfg)
    print(f"\nnext: mailbot --config {folder / 'mailbot.toml'} registrations werkstatt-2027")
    w.db.dispose()
    return 0
