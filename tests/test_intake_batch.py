"""Intake in batches: one transaction with a savepoint per run of registrations (per mail for
any other), and one move per folder."""

from __future__ import annotations

import mailbox as stdlib_mailbox
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mailbot.config import load_settings
from mailbot.database import Database
from mailbot.mailbox.imap import ImapMailbox
from mailbot.mailbox.imap_folders import uid_set
from mailbot.mailbox.maildir import MaildirMailbox
from mailbot.models import EventSeats, InboundRecord, OutboxRow
from mailbot.runners import intake, intake_record
from mailbot.runners.worker import Worker
from mailbot.types import Outcome
from tests.servers import Dovecot


def _mail(n: int) -> bytes:
    return (f"From: Person {n} <p{n}@verein.example>\r\nTo: anmeldung@mitgen.example\r\n"
            f"Subject: Anmeldung\r\nMessage-ID: <b{n}@verein.example>\r\n\r\n"
            f"Hiermit melde ich mich an.\r\n\r\nPerson {n}\r\n").encode()


@pytest.fixture
def worker(tmp_path: Path, db_url: str) -> Iterator[Worker]:
    box = stdlib_mailbox.Maildir(str(tmp_path / "inbox"), create=True)
    for n in range(6):
        box.add(_mail(n))
    settings = load_settings(env={"MAILBOT_DATABASE_URL": db_url})
    w = Worker(settings=settings, db=Database(db_url),
               mailbox=MaildirMailbox(f"maildir://{tmp_path}/inbox"))
    yield w
    w.db.dispose()


def _one_event(worker: Worker, s: Any, capacity: int) -> None:
    """The only event, open for registration (starting in 400 days)."""
    from datetime import datetime, timedelta

    from mailbot.registrations.event_changes import import_events
    from tests import factories

    later = datetime.now(factories.CET) + timedelta(days=400)
    import_events(s, worker.mailer(s), [factories.event(
        capacity=capacity, starts=later, ends=later + timedelta(hours=3))])


def _records(w: Worker) -> dict[str, InboundRecord]:
    with w.db.session() as s:
        return {r.message_id: r for r in s.scalars(select(InboundRecord))}


def test_one_mail_that_breaks_in_apply_is_quarantined_and_the_rest_of_its_batch_commits(
        worker: Worker, monkeypatch: pytest.MonkeyPatch) -> None:
    real = intake_record.apply_and_answer

    def breaks_on_the_third(s: Any, rt: Any, rec: InboundRecord, mail: Any, intent: Any
                            ) -> Outcome:
        outcome = real(s, rt, rec, mail, intent)  # its effects are written, then it fails
        if rec.message_id == "b2@verein.example":
            raise RuntimeError("apply exploded")
        return outcome

    monkeypatch.setattr(intake_record, "apply_and_answer", breaks_on_the_third)
    assert worker.intake_pass(batch=10) == 6
    recs = _records(worker)
    assert recs["b2@verein.example"].outcome == Outcome.QUARANTINE
    assert "apply exploded" in (recs["b2@verein.example"].reason or "")
    assert {m for m, r in recs.items() if r.outcome != Outcome.QUARANTINE} == {
        f"b{n}@verein.example" for n in (0, 1, 3, 4, 5)}
    with worker.db.session() as s:  # the savepoint took the broken mail's reply back with it
        to = sorted(s.scalars(select(OutboxRow.to_addr)))
    assert "p2@verein.example" not in to
    assert worker.mailbox is not None and worker.mailbox.backlog() == 0


def test_a_batch_taken_in_again_after_a_crash_before_the_move_is_only_moved(
        worker: Worker) -> None:
    assert worker.mailbox is not None
    raws = list(worker.mailbox.fetch_new(limit=10))
    first = intake.take_in_batch(worker, raws, worker.understand)  # committed, not moved
    with worker.db.session() as s:
        replies = len(s.scalars(select(OutboxRow)).all())
    again = intake.Intake(worker, worker.mailbox, worker.understand).handle_batch(raws)
    assert again == first
    with worker.db.session() as s:
        assert len(s.scalars(select(OutboxRow)).all()) == replies
    assert len(_records(worker)) == 6
    assert worker.mailbox.backlog() == 0


def test_a_mail_twice_in_one_batch_is_applied_once(worker: Worker) -> None:
    from mailbot.mailbox import RawMessage

    raws = [RawMessage("test", 1, "a", _mail(9)), RawMessage("test", 1, "b", _mail(9))]
    first, second = intake.take_in_batch(worker, raws, worker.understand)
    assert second == Outcome.DONE  # the first one's effects stand; nothing applied again
    with worker.db.session() as s:
        recs = s.scalars(select(InboundRecord).order_by(InboundRecord.id)).all()
        assert [r.uid for r in recs] == ["a", "b"]
        assert recs[0].outcome == first
        assert len(s.scalars(select(OutboxRow.to_addr)).all()) <= 1


def test_a_uid_set_is_written_in_ranges() -> None:
    assert uid_set([]) == ""
    assert uid_set([4]) == "4"
    assert uid_set([1, 2, 3, 5, 7, 8]) == "1:3,5,7:8"


def _imap(server: Dovecot, **kwargs: Any) -> ImapMailbox:
    return ImapMailbox(server.url, server.password, {o: o.value for o in Outcome},
                       backoff=0.05, retry_for=10.0, timeout=5.0, **kwargs)


@pytest.mark.dovecot
@pytest.mark.parametrize("use_move", [True, False])
def test_imap_moves_a_batch_in_one_command_and_skips_what_is_gone(
        dovecot: Dovecot, use_move: bool) -> None:
    for n in range(7):
        dovecot.append(_mail(n))
    mb = _imap(dovecot, use_move=use_move)
    try:
        msgs = list(mb.fetch_new())
        mb.move(msgs[3], Outcome.REVIEW)  # already gone when the batch moves
        mb.move_many(msgs[:6], Outcome.DONE)
        mb.move_many(msgs[:6], Outcome.DONE)  # again: harmless
        assert dovecot.messages("done") == [_mail(n) for n in (0, 1, 2, 4, 5)]
        assert dovecot.messages("review") == [_mail(3)]
        assert dovecot.messages("INBOX") == [_mail(6)]
        assert not any("\\Deleted" in f for f in dovecot.flags("INBOX").values())
    finally:
        mb.close()


def test_maildir_moves_a_batch_and_skips_what_is_gone(worker: Worker, tmp_path: Path) -> None:
    mb = worker.mailbox
    assert isinstance(mb, MaildirMailbox)
    msgs = list(mb.fetch_new())
    mb.move(msgs[0], Outcome.QUARANTINE)
    mb.move_many(msgs[:4], Outcome.DONE)
    assert mb.backlog() == 2
    assert len(list((tmp_path / "inbox" / ".done" / "cur").iterdir())) == 3
    assert len(list((tmp_path / "inbox" / ".quarantine" / "cur").iterdir())) == 1


def test_the_reply_limit_counts_the_replies_queued_earlier_in_the_same_batch(
        worker: Worker) -> None:

    from mailbot.mailbox import RawMessage
    from tests import factories

    with worker.db.session() as s:
        _one_event(worker, s, capacity=100)

    def read(data: bytes, events: Any) -> Any:  # twelve mails of one sender, each registering
        n = int(data.split(b"<b", 1)[1].split(b"@", 1)[0])
        mail = factories.mail(sender="p0@verein.example", text=f"Anmeldung {n}")
        return replace(mail, message_id=f"b{n}@verein.example"), factories.intent()

    raws = [RawMessage("test", 1, str(n), _mail(n)) for n in range(12)]
    intake.take_in_batch(worker, raws, read)
    with worker.db.session() as s:
        replies = s.scalars(select(OutboxRow.to_addr).where(
            OutboxRow.auto_submitted == "auto-replied")).all()
    assert replies == ["p0@verein.example"] * worker.settings.reply_limit_per_day


def test_a_message_id_another_worker_claims_during_the_batch_is_recorded_once_not_applied(
        worker: Worker, monkeypatch: pytest.MonkeyPatch) -> None:
    from mailbot.mailbox import RawMessage

    real = intake_record.prime_batch

    def then_another_worker_claims_b3(s: Any, rt: Any, batch: Any) -> None:
        real(s, rt, batch)  # the batch believes b3's Message-ID is free …
        s.add(InboundRecord(mailbox="other", uidvalidity=1, uid="x", outcome=Outcome.DONE,
                            message_id="b3@verein.example",
                            applied_message_id="b3@verein.example"))
        s.flush()  # … but another worker applied a copy of it meanwhile

    monkeypatch.setattr(intake, "prime_batch", then_another_worker_claims_b3)
    raws = [RawMessage("test", 1, str(n), _mail(n)) for n in range(6)]
    outcomes = intake.take_in_batch(worker, raws, worker.understand)
    assert outcomes[3] == Outcome.DONE
    with worker.db.session() as s:
        mine = s.scalars(select(InboundRecord).where(InboundRecord.mailbox == "test",
                                                     InboundRecord.uid == "3")).one()
        assert mine.applied_message_id is None and "not applied twice" in mine.reason
        assert s.scalars(select(OutboxRow).where(
            OutboxRow.to_addr == "p3@verein.example")).all() == []
        assert len(s.scalars(select(InboundRecord).where(
            InboundRecord.mailbox == "test")).all()) == 6  # the others applied as before


def test_a_person_another_worker_adds_during_the_batch_is_found_and_the_mail_applied(
        worker: Worker, monkeypatch: pytest.MonkeyPatch) -> None:

    from mailbot.mailbox import RawMessage
    from mailbot.models import Person, Registration

    with worker.db.session() as s:
        _one_event(worker, s, capacity=100)
    real = intake_record.prime_batch

    def then_another_worker_adds_p3(s: Any, rt: Any, batch: Any) -> None:
        real(s, rt, batch)  # the batch looked up its people: nobody has p3's address …
        s.add(Person(email_key="p3@verein.example", email="p3@verein.example", name="P 3"))
        s.flush()  # … but another worker registered that person meanwhile

    monkeypatch.setattr(intake, "prime_batch", then_another_worker_adds_p3)
    raws = [RawMessage("test", 1, str(n), _mail(n)) for n in range(6)]
    outcomes = intake.take_in_batch(worker, raws, worker.understand)
    assert outcomes == [Outcome.DONE] * 6
    with worker.db.session() as s:
        person = s.scalars(select(Person).where(Person.email_key == "p3@verein.example")).one()
        assert len(s.scalars(select(Registration).where(
            Registration.person_id == person.id)).all()) == 1
        assert s.scalars(select(OutboxRow.to_addr).where(
            OutboxRow.to_addr == "p3@verein.example")).all() == ["p3@verein.example"]


def test_a_backlog_read_in_worker_processes_is_taken_in_batch_by_batch_with_a_pass_between(
        worker: Worker, tmp_path: Path) -> None:
    from mailbot.runners.pool import CorePool

    box = stdlib_mailbox.Maildir(str(tmp_path / "inbox"), create=False)
    for n in range(6, 13):
        box.add(_mail(n))  # 13 in all: batches of 4, 4, 4 and 1
    between: list[int] = []

    def count_records() -> Callable[[], None]:
        between.append(len(_records(worker)))  # what was committed when the next is read
        return lambda: None

    worker.pool = CorePool(workers=2, threshold=2, initializer=intake.start_reader,
                           initargs=(worker.understand,))
    worker.between_batches = count_records
    worker.settings = replace(worker.settings, intake_batch=4)  # MAILBOT_INTAKE_BATCH=4
    try:
        assert worker.intake_pass() == 13
    finally:
        worker.pool.close()
    assert between == [4, 8, 12]  # after each full batch, none after the last
    recs = _records(worker)
    assert len(recs) == 13 and worker.mailbox is not None and worker.mailbox.backlog() == 0
    _mail_read, intent = worker.understand(_mail(0), [])
    assert {(r.outcome != Outcome.QUARANTINE, r.intent) for r in recs.values()} == {
        (True, intent.kind)}  # read in the processes as here, none lost on the way


def test_a_batch_of_large_mails_ends_at_the_byte_budget_and_the_pass_goes_on(
        worker: Worker, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch ends with the mail that fills the byte budget (never more mails in memory
    than that), and a batch cut short so is full: the same pass takes the next."""
    size = len(_mail(0))
    monkeypatch.setattr(intake, "BATCH_BYTES", 2 * size)
    batches: list[int] = []
    handle = intake.Intake._finish

    def counted(self: intake.Intake, started: intake.Started) -> list[Outcome]:
        batches.append(len(started.raws))
        return handle(self, started)

    monkeypatch.setattr(intake.Intake, "_finish", counted)
    assert worker.intake_pass() == 6
    assert batches == [2, 2, 2] or batches == [2, 2, 2, 0]
    assert worker.mailbox is not None and worker.mailbox.backlog() == 0


def test_in_one_batch_each_mail_counts_the_seats_the_mails_before_it_took(
        worker: Worker) -> None:
    """The seat counter is read without writing the mail's own record first; the registrations
    of the mails before it in the batch must count all the same: no seat is given twice."""

    from mailbot.mailbox import RawMessage
    from mailbot.models import Registration
    from mailbot.types import Attendee
    from tests import factories

    with worker.db.session() as s:
        _one_event(worker, s, capacity=3)
    seats_asked = [1, 2, 1, 1]
    # the first mail registers its sender and two colleagues with addresses of their own: a
    # registration of the same mail is still unwritten when the next one counts the seats
    colleagues = (Attendee("Person 0", "p0@verein.example"),
                  Attendee("Ada Kollegin", "ada@verein.example"),
                  Attendee("Bo Kollege", "bo@verein.example"))

    def read(data: bytes, events: Any) -> Any:
        n = int(data.split(b"<b", 1)[1].split(b"@", 1)[0])
        mail = replace(factories.mail(sender=f"p{n}@verein.example"),
                       message_id=f"b{n}@verein.example")
        return mail, factories.intent(party_size=seats_asked[n],
                                      attendees=colleagues if n == 0 else None)

    raws = [RawMessage("test", 1, str(n), _mail(n)) for n in range(4)]
    assert intake.take_in_batch(worker, raws, read) == [Outcome.DONE] * 4
    with worker.db.session() as s:
        held = {r.person.email: (r.seats, r.waiting_seats)
                for r in s.scalars(select(Registration))}
    assert held == {"p0@verein.example": (1, 0), "ada@verein.example": (1, 0),
                    "bo@verein.example": (1, 0), "p1@verein.example": (0, 2),
                    "p2@verein.example": (0, 1), "p3@verein.example": (0, 1)}


def test_registrations_of_different_people_are_cut_into_runs_any_other_mail_alone() -> None:
    from mailbot.mailbox import RawMessage
    from mailbot.types import Attendee, IntentKind
    from tests import factories

    def item(n: int, sender: str, kind: IntentKind = IntentKind.REGISTER,
             colleague: str | None = None) -> tuple[RawMessage, Any]:
        mail = factories.mail(sender=sender)
        attendees = (Attendee("Kollegin", colleague),) if colleague else None
        return RawMessage("test", 1, str(n), b""), (mail, factories.intent(
            kind=kind, attendees=attendees))

    group = [item(0, "a@x.example"), item(1, "b@x.example"),
             item(2, "A@X.example"),  # the first sender again: a new run
             item(3, "c@x.example", colleague="a@x.example"),  # in the run: a new one
             item(4, "d@x.example", IntentKind.CANCEL),  # alone
             item(5, "e@x.example"), (RawMessage("test", 1, "6", b""), RuntimeError("unread")),
             item(7, "f@x.example")]
    assert [[raw.uid for raw, _got in run] for run in intake.runs(group)] == [
        ["0", "1"], ["2"], ["3"], ["4"], ["5"], ["6"], ["7"]]


def test_a_run_of_registrations_is_written_in_one_flush_and_counts_its_unwritten_seats(
        worker: Worker) -> None:
    """The registrations of a run are written together; the seat counter counts those added
    before it and not yet written, so no seat is given twice (capacity 4, six people)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from mailbot.mailbox import RawMessage
    from mailbot.models import Registration, RegState

    flushes: list[int] = []

    def count(session: Session, _ctx: Any, _instances: Any) -> None:
        flushes.append(sum(isinstance(o, Registration) for o in session.new))

    with worker.db.session() as s:
        _one_event(worker, s, capacity=4)
    raws = [RawMessage("test", 1, str(n), _mail(n)) for n in range(6)]
    event.listen(Session, "before_flush", count)
    try:
        assert intake.take_in_batch(worker, raws, worker.understand) == [Outcome.DONE] * 6
    finally:
        event.remove(Session, "before_flush", count)
    # the first five written together: the fifth waits, and its place on the waiting list is
    # counted among written rows; the sixth at the end of the run
    assert [n for n in flushes if n] == [5, 1]
    with worker.db.session() as s:
        states = sorted(r.state for r in s.scalars(select(Registration)))
        taken = s.scalar(select(EventSeats.taken))
    assert states == [RegState.REGISTERED] * 4 + [RegState.WAITING] * 2 and taken == 4


def test_the_events_a_batch_registers_for_are_read_before_its_rows_and_all_written_at_once(
        worker: Worker) -> None:
    """Looking up an event while a mail's rows wait unwritten writes them first (autoflush):
    a batch of a few mails (LMTP) for two events paid three flushes, not one. The events its
    registrations name are read and locked at its start, when nothing waits."""
    from datetime import datetime, timedelta

    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from mailbot.mailbox import RawMessage
    from mailbot.models import Registration
    from mailbot.registrations.event_changes import import_events
    from mailbot.types import EventInfo, IntentKind
    from tests import factories

    later = datetime.now(factories.CET) + timedelta(days=400)
    with worker.db.session() as s:
        import_events(s, worker.mailer(s), [
            factories.event(slug=slug, capacity=10, starts=later, ends=later + timedelta(hours=3))
            for slug in ("erste", "zweite")])
    raws = [RawMessage("test", 1, str(n), _mail(n)) for n in range(4)]
    slugs = {raw.data: ("erste", "zweite")[n % 2] for n, raw in enumerate(raws)}

    def read(data: bytes, events: list[EventInfo]) -> Any:
        mail, intent = worker.understand(data, events)
        return mail, replace(intent, kind=IntentKind.REGISTER, event=slugs[data])

    flushes: list[int] = []

    def count(session: Session, _ctx: Any, _instances: Any) -> None:
        if session.new or session.dirty or session.deleted:
            flushes.append(len(session.new))

    event.listen(Session, "before_flush", count)
    try:
        assert intake.take_in_batch(worker, raws, read) == [Outcome.DONE] * 4
    finally:
        event.remove(Session, "before_flush", count)
    assert len(flushes) == 1
    with worker.db.session() as s:
        assert sorted((r.event.slug, r.person.email) for r in s.scalars(select(Registration))) \
            == sorted((slugs[raw.data], f"p{n}@verein.example") for n, raw in enumerate(raws))


def test_the_next_batch_is_fetched_before_this_one_is_moved_and_none_is_taken_twice(
        worker: Worker, tmp_path: Path) -> None:
    """Overlapped batches: the next batch is fetched (and its reading handed out) before this
    one is applied and moved, passing over the mails of this one, which are still in the
    inbox; every mail is taken in once."""
    box = stdlib_mailbox.Maildir(str(tmp_path / "inbox"), create=False)
    for n in range(6, 13):
        box.add(_mail(n))  # 13 in all: batches of 4, 4, 4 and 1
    mb = worker.mailbox
    assert mb is not None
    steps: list[tuple[str, frozenset[str]]] = []
    fetch, move_many = mb.fetch_new, mb.move_many

    def fetched(limit: int = 100, max_bytes: int | None = None, skip: Any = ()) -> Any:
        got = list(fetch(limit, max_bytes, skip))
        steps.append(("fetch", frozenset(skip)))
        steps.append(("got", frozenset(m.uid for m in got)))
        return iter(got)

    def moved(msgs: Any, outcome: Outcome) -> None:
        steps.append(("move", frozenset(m.uid for m in msgs)))
        move_many(msgs, outcome)

    mb.fetch_new, mb.move_many = fetched, moved  # type: ignore[method-assign]
    worker.settings = replace(worker.settings, intake_batch=4)
    assert worker.intake_pass() == 13
    kinds = [kind for kind, _ in steps]
    assert kinds == ["fetch", "got", "fetch", "got", "move", "fetch", "got", "move",
                     "fetch", "got", "move", "move"]
    batches = [uids for kind, uids in steps if kind == "got"]
    assert [uids for kind, uids in steps if kind == "fetch"] == [frozenset(), *batches[:-1]]
    assert [uids for kind, uids in steps if kind == "move"] == batches
    assert len(_records(worker)) == 13 and mb.backlog() == 0


def test_a_batch_fetched_ahead_is_read_with_the_events_as_the_batch_before_left_them(
        worker: Worker, monkeypatch: pytest.MonkeyPatch) -> None:
    """The next batch is fetched before this one is applied; should this one change an
    event (a coordinator's mail), the next is read with the event as it is now."""
    from sqlalchemy import update

    from mailbot.models import Event

    with worker.db.session() as s:
        _one_event(worker, s, capacity=50)
    venues: dict[bytes, str] = {}
    understand = worker.understand

    def read(data: bytes, events: list[Any]) -> Any:
        venues[data] = events[0].venue
        if data == _mail(0):  # as if this mail's effects moved the event
            with worker.db.session() as s:
                s.execute(update(Event).values(venue="Rathaus, Saal 2"))
        return understand(data, events)

    monkeypatch.setattr(worker, "understand", read)
    worker.settings = replace(worker.settings, intake_batch=3)
    assert worker.intake_pass() == 6
    assert venues[_mail(0)] != "Rathaus, Saal 2"
    assert {venues[_mail(n)] for n in range(3, 6)} == {"Rathaus, Saal 2"}
