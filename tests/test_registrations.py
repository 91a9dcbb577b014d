"""The registration domain on SQLite and PostgreSQL: seats, waiting list, changes, erasure."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailbot.models import (
    Erasure,
    Event,
    InboundRecord,
    OutboxRow,
    Person,
    Registration,
    RegState,
)
from mailbot.registrations.event_changes import import_events, set_venue
from mailbot.registrations.lifecycle import purge_one_event, send_one_reminder
from mailbot.registrations.offers import expire_offer
from mailbot.registrations.seats import expired_offers
from mailbot.types import Attendee, IntentKind, Outcome
from tests.factories import NOW, World, event, intent, mail, while_another_worker_holds


@pytest.fixture
def world(db_url: str) -> World:
    return World(db_url, [event(capacity=3)])


def outbox(w: World, template: str | None = None) -> list[OutboxRow]:
    with w.db.session() as s:
        q = select(OutboxRow).order_by(OutboxRow.id)
        if template:
            q = q.where(OutboxRow.template == template)
        return list(s.scalars(q))


def regs(w: World) -> dict[str, Registration]:
    with w.db.session() as s:
        return {r.person.email: r for r in s.scalars(select(Registration))}


def test_it_registers_and_queues_a_confirmation_with_a_calendar_entry(world: World) -> None:
    assert world.register("maria@verein.example", "Maria Muster") == Outcome.DONE
    [row] = outbox(world)
    assert row.template == "confirmation" and row.to_addr == "maria@verein.example"
    assert row.ics is not None and row.ics["sequence"] == 0 and row.ics["uid"]
    assert row.context["event"]["slug"] == "werkstatt" and row.context["seats"] == 1
    assert row.in_reply_to and row.auto_submitted == "auto-replied"
    assert regs(world)["maria@verein.example"].state == RegState.REGISTERED


def test_it_puts_the_fourth_on_the_waiting_list_with_its_position(world: World) -> None:
    for i in range(5):
        world.register(f"p{i}@verein.example")
    r = regs(world)
    assert [r[f"p{i}@verein.example"].state for i in range(5)] == [RegState.REGISTERED] * 3 + [
        RegState.WAITING] * 2
    waiting = outbox(world, "waitlisted")
    assert [w.context["position"] for w in waiting] == [1, 2]
    assert all(w.ics is None for w in waiting)


def test_a_party_that_only_partly_fits_gets_the_free_seats_and_waits_for_the_rest(
        world: World) -> None:
    world.register("a@verein.example")
    world.register("b@verein.example", seats=3)
    r = regs(world)["b@verein.example"]
    assert (r.seats, r.waiting_seats, r.state) == (2, 1, RegState.REGISTERED)
    [row] = outbox(world, "partly_waitlisted")
    assert row.context["seats"] == 2 and row.context["waiting_seats"] == 1
    assert row.context["position"] == 1


def test_the_same_person_registering_again_is_already_registered_whatever_the_spelling(
        world: World) -> None:
    world.register("maria@verein.example")
    world.register("Maria+events@Verein.Example")
    assert len(regs(world)) == 1
    assert [r.template for r in outbox(world)] == ["confirmation", "already_registered"]
    with world.db.session() as s:
        assert s.scalar(select(func.sum(Registration.seats))) == 1


def test_a_second_registration_asking_for_more_seats_is_a_change(world: World) -> None:
    world.register("maria@verein.example")
    world.register("maria@verein.example", seats=2)
    assert regs(world)["maria@verein.example"].seats == 2
    [row] = outbox(world, "seats_changed")
    assert row.context["old_seats"] == 1 and row.context["seats"] == 2


def test_a_cancellation_frees_the_seat_and_the_first_on_the_list_moves_up_and_is_told(
        world: World) -> None:
    for i in range(5):
        world.register(f"p{i}@verein.example")
    world.cancel("p1@verein.example")
    r = regs(world)
    assert r["p1@verein.example"].state == RegState.CANCELLED
    assert r["p3@verein.example"].state == RegState.REGISTERED
    assert r["p4@verein.example"].state == RegState.WAITING
    [cancelled] = outbox(world, "cancelled")
    assert cancelled.ics is not None and cancelled.ics["method"] == "CANCEL"
    [moved] = outbox(world, "moved_up")
    assert moved.to_addr == "p3@verein.example" and moved.ics is not None


def test_the_first_on_the_list_who_fits_moves_up_not_a_party_too_big(world: World) -> None:
    for i in range(3):
        world.register(f"p{i}@verein.example")
    world.register("group@verein.example", seats=2)
    world.register("single@verein.example")
    world.cancel("p0@verein.example")
    r = regs(world)
    assert r["group@verein.example"].state == RegState.WAITING
    assert r["single@verein.example"].state == RegState.REGISTERED


def test_cancelling_one_of_two_seats_keeps_the_other(world: World) -> None:
    world.register("maria@verein.example", seats=2)
    world.cancel("maria@verein.example", cancel_seats=1)
    r = regs(world)["maria@verein.example"]
    assert (r.seats, r.state) == (1, RegState.REGISTERED)
    [row] = outbox(world, "cancelled")
    assert row.context["cancelled_seats"] == 1 and row.context["remaining_seats"] == 1
    assert row.ics is None or row.ics["method"] == "REQUEST"


def test_a_substitute_takes_over_the_seat(world: World) -> None:
    world.register("maria@verein.example", "Maria Muster")
    world.send(mail("maria@verein.example", text="Statt mir kommt Aylin Yılmaz."),
               intent(attendees=(Attendee("Aylin Yılmaz", "a.yilmaz@verein.example"),),
                      substitute=Attendee("Aylin Yılmaz", "a.yilmaz@verein.example")))
    r = regs(world)
    assert "a.yilmaz@verein.example" in r and "maria@verein.example" not in r
    assert r["a.yilmaz@verein.example"].seats == 1
    assert {o.template for o in outbox(world)} >= {"substituted", "confirmation"}
    assert [o.to_addr for o in outbox(world, "substituted")] == ["maria@verein.example"]
    with world.db.session() as s:
        assert s.scalar(select(func.sum(Registration.seats))) == 1


def test_a_substitute_without_an_existing_registration_is_simply_registered(
        world: World) -> None:
    aylin = Attendee("Aylin Yılmaz", "a.yilmaz@verein.example")
    world.send(mail("maria@verein.example"), intent(attendees=(aylin,), substitute=aylin))
    assert list(regs(world)) == ["a.yilmaz@verein.example"]


def test_someone_on_the_waiting_list_can_cancel_and_leaves_it(world: World) -> None:
    for i in range(4):
        world.register(f"p{i}@verein.example")
    world.cancel("p3@verein.example")
    assert regs(world)["p3@verein.example"].state == RegState.CANCELLED
    assert not outbox(world, "moved_up")


def test_a_cancellation_from_a_stranger_is_answered_not_registered(world: World) -> None:
    world.cancel("nobody@verein.example")
    assert [o.template for o in outbox(world)] == ["not_registered"]


def test_with_confirm_hours_the_freed_seat_is_offered_and_ja_accepts(db_url: str) -> None:
    w = World(db_url, [event(capacity=1, confirm_hours=24)])
    w.register("a@verein.example")
    w.register("b@verein.example")
    w.cancel("a@verein.example")
    assert regs(w)["b@verein.example"].state == RegState.OFFERED
    [offer] = outbox(w, "offer")
    assert offer.to_addr == "b@verein.example"
    w.send(mail("b@verein.example", text="Ja"), intent(IntentKind.OTHER, accepts_offer=True))
    assert regs(w)["b@verein.example"].state == RegState.REGISTERED
    assert outbox(w, "confirmation")[-1].to_addr == "b@verein.example"


def test_nein_or_an_expired_offer_passes_the_seat_to_the_next(db_url: str) -> None:
    w = World(db_url, [event(capacity=1, confirm_hours=24)])
    for who in ("a", "b", "c"):
        w.register(f"{who}@verein.example")
    w.cancel("a@verein.example")
    w.send(mail("b@verein.example", text="Nein danke"),
           intent(IntentKind.OTHER, accepts_offer=False))
    assert regs(w)["b@verein.example"].state == RegState.CANCELLED
    assert regs(w)["c@verein.example"].state == RegState.OFFERED
    w.now = NOW + timedelta(hours=25)
    with w.db.session() as s:
        ids = expired_offers(s, w.now)
        assert len(ids) == 1
        assert expire_offer(s, w.mailer(s), ids[0])
        assert not expire_offer(s, w.mailer(s), ids[0])
    assert regs(w)["c@verein.example"].state == RegState.CANCELLED
    assert len(outbox(w, "offer_expired")) == 1


def test_setting_the_venue_notifies_registered_and_waiting_with_a_higher_sequence(
        world: World) -> None:
    for i in range(4):
        world.register(f"p{i}@verein.example")
    with world.db.session() as s:
        assert set_venue(s, world.mailer(s), "werkstatt", "Pavillon, Lister Meile 4") == 4
    with world.db.session() as s:
        assert set_venue(s, world.mailer(s), "werkstatt", "Pavillon,  Lister Meile 4") is None
    notices = outbox(world, "venue_notice")
    assert len(notices) == 3 and all(n.ics and n.ics["sequence"] == 1 for n in notices)
    assert notices[0].context["event"]["venue"] == "Pavillon, Lister Meile 4"
    assert len(outbox(world, "venue_notice_waiting")) == 1


def test_importing_a_changed_time_sends_notices_and_a_raised_capacity_moves_people_up(
        world: World) -> None:
    for i in range(4):
        world.register(f"p{i}@verein.example")
    later = event(capacity=4, starts=event().starts + timedelta(hours=1))
    with world.db.session() as s:
        res = import_events(s, world.mailer(s), [later])
    assert res.notices == 4
    assert regs(world)["p3@verein.example"].state == RegState.REGISTERED
    assert outbox(world, "venue_notice")[0].context["changed"] == ["time"]


def test_reminders_go_out_once_per_person_two_days_before(world: World) -> None:
    for i in range(4):
        world.register(f"p{i}@verein.example")
    world.now = event().starts - timedelta(days=3)
    with world.db.session() as s:
        assert not send_one_reminder(s, world.mailer(s))
    world.now = event().starts - timedelta(days=2)
    for _ in range(2):
        while True:
            with world.db.session() as s:
                if not send_one_reminder(s, world.mailer(s)):
                    break
    assert sorted(r.to_addr for r in outbox(world, "reminder")) == [
        "p0@verein.example", "p1@verein.example", "p2@verein.example"]


def test_two_workers_never_send_a_reminder_twice(world: World) -> None:
    for i in range(3):
        world.register(f"p{i}@verein.example")
    world.now = event().starts - timedelta(days=1)

    def work() -> None:
        while True:
            with world.db.session() as s:
                if not send_one_reminder(s, world.mailer(s)):
                    return

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outbox(world, "reminder")) == 3


@contextmanager
def changed_before_the_claim(world: World, table: str, change: str) -> Iterator[list[str]]:
    """Runs `change` on the claim's own connection right before its UPDATE of `table`: what a
    worker on PostgreSQL may see when another commits between the SELECT and the UPDATE."""
    played: list[str] = []

    def change_first(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(f"UPDATE {table.upper()}") and not played:
            played.append(statement)
            conn.exec_driver_sql(change)

    sa_event.listen(world.db.engine, "before_cursor_execute", change_first)
    try:
        yield played
    finally:
        sa_event.remove(world.db.engine, "before_cursor_execute", change_first)
    assert played


def test_a_reminder_is_not_claimed_for_a_registration_cancelled_after_it_was_picked(
        world: World) -> None:
    world.register("p0@verein.example")
    world.now = event().starts - timedelta(days=1)
    with changed_before_the_claim(world, "registrations", "UPDATE registrations SET state ="
                                  " 'CANCELLED', seats = 0, waiting_seats = 0"), \
            world.db.session() as s:
        assert not send_one_reminder(s, world.mailer(s))
    assert outbox(world, "reminder") == []


def test_an_event_whose_retention_changed_after_it_was_picked_is_not_purged(
        world: World) -> None:
    world.register("p0@verein.example")
    world.now = event().ends + timedelta(days=31)
    with changed_before_the_claim(world, "events", "UPDATE events SET retention_days = 400"), \
            world.db.session() as s:
        assert not purge_one_event(s, world.mailer(s))
    assert "p0@verein.example" in regs(world)


def test_registration_closes_at_the_deadline_and_past_events_are_not_open(db_url: str) -> None:
    w = World(db_url, [event(registration_deadline=NOW - timedelta(hours=1))])
    w.register("late@verein.example")
    [row] = outbox(w)
    assert row.template == "closed" and row.context["reason"] == "deadline"
    w.now = event().ends + timedelta(days=1)
    w.register("later@verein.example")
    assert outbox(w)[-1].context["reason"] == "past"
    assert not regs(w)


def test_an_ambiguous_registration_asks_which_event_and_lists_the_open_ones(db_url: str) -> None:
    w = World(db_url, [event("a"), event("b", starts=event().starts + timedelta(days=30),
                                         ends=event().ends + timedelta(days=30))])
    w.send(mail(), intent(event=None))
    [row] = outbox(w)
    assert row.template == "which_event"
    assert [e["slug"] for e in row.context["events"]] == ["a", "b"]
    assert not regs(w)


def test_colleagues_with_addresses_get_their_own_registration_and_confirmation(
        world: World) -> None:
    who = (Attendee("Maria Muster", "maria@verein.example"),
           Attendee("Aylin Yılmaz", "a.yilmaz@verein.example"), Attendee("Jonas Berg", None))
    world.send(mail(), intent(attendees=who, party_size=3))
    r = regs(world)
    assert r["maria@verein.example"].seats == 2
    assert r["maria@verein.example"].attendees == ["Maria Muster", "Jonas Berg"]
    assert r["a.yilmaz@verein.example"].seats == 1
    assert r["a.yilmaz@verein.example"].registered_by == "maria@verein.example"
    assert sorted(o.to_addr for o in outbox(world, "confirmation")) == [
        "a.yilmaz@verein.example", "maria@verein.example"]


def test_a_question_is_forwarded_to_the_coordinators_with_the_asker_in_reply_to(
        world: World) -> None:
    world.send(mail(text="Gibt es Kinderbetreuung?"),
               intent(IntentKind.QUESTION, question="Gibt es Kinderbetreuung?"))
    [fwd] = outbox(world, "question_forward")
    assert fwd.to_addr == "koordination@mitgen.example"
    assert fwd.reply_to == "maria@verein.example" and fwd.auto_submitted == "auto-generated"
    assert len(outbox(world, "question_ack")) == 1


def test_a_registration_with_a_question_is_registered_and_flagged(world: World) -> None:
    world.register("maria@verein.example", has_question=True, question="Ist der Raum barrierefrei?")
    r = regs(world)["maria@verein.example"]
    assert r.has_question and r.question.startswith("Ist der Raum")
    assert len(outbox(world, "question_forward")) == 1


def test_erasure_frees_the_seats_deletes_the_person_and_keeps_an_anonymous_fact(
        world: World) -> None:
    for i in range(4):
        world.register(f"p{i}@verein.example")
    world.send(mail("p0@verein.example", text="Bitte löschen Sie meine Daten."),
               intent(IntentKind.ERASE, event=None))
    with world.db.session() as s:
        assert s.scalar(select(Person).where(Person.email == "p0@verein.example")) is None
        senders = s.scalars(select(InboundRecord.sender)).all()
        assert "p0@verein.example" not in senders
        [fact] = s.scalars(select(Erasure)).all()
        assert fact.registrations_removed == 1
        sent_to = s.scalars(select(OutboxRow.to_addr).where(OutboxRow.status == "sent")).all()
        assert "p0@verein.example" not in sent_to
    assert regs(world)["p3@verein.example"].state == RegState.REGISTERED
    assert outbox(world, "erased")[0].to_addr == "p0@verein.example"


def test_what_was_still_to_go_to_an_erased_person_goes_with_their_data(world: World) -> None:
    world.register("p0@verein.example", "Paula Null")  # its confirmation not yet sent
    world.register("p1@verein.example")
    world.send(mail("p0@verein.example", "Paula Null", text="Bitte löschen Sie meine Daten."),
               intent(IntentKind.ERASE, event=None))
    assert [(o.template, o.to_addr) for o in outbox(world)] == [
        ("confirmation", "p1@verein.example"), ("erased", "p0@verein.example")]


def test_the_purge_removes_all_personal_data_retention_days_after_the_event(
        world: World) -> None:
    for i in range(4):
        world.register(f"p{i}@verein.example")
    world.now = event().ends + timedelta(days=29)
    with world.db.session() as s:
        assert not purge_one_event(s, world.mailer(s))
    world.now = event().ends + timedelta(days=30, minutes=1)
    with world.db.session() as s:
        assert purge_one_event(s, world.mailer(s))
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Registration)) == 0
        assert s.scalar(select(func.count()).select_from(Person)) == 0
        assert all(not r.sender for r in s.scalars(select(InboundRecord)))
        assert s.scalar(select(Event.purged_at)) is not None
        assert s.scalar(select(func.count()).select_from(OutboxRow)
                        .where(OutboxRow.status != "queued")) == 0


def test_replies_to_one_sender_stop_at_the_daily_limit(world: World) -> None:
    for _ in range(12):
        world.register("robot@verein.example")
    rows = [o for o in outbox(world) if o.to_addr == "robot@verein.example"]
    assert len(rows) == 10


def test_machines_and_our_own_mail_get_no_answer(world: World) -> None:
    assert world.send(mail(auto_markers=("auto-submitted",)),
                      intent(IntentKind.AUTO_REPLY)) == Outcome.DONE
    assert world.send(replace(mail(), bounced_recipients=("x@verein.example",)),
                      intent(IntentKind.BOUNCE)) == Outcome.DONE
    assert world.send(replace(mail(), ours=True), intent()) == Outcome.DONE
    assert outbox(world) == []


def test_low_confidence_goes_to_review_without_an_answer(world: World) -> None:
    i = replace(intent(), confidence=0.3)
    assert world.send(mail(), i) == Outcome.REVIEW
    assert outbox(world) == [] and regs(world) == {}


def test_handled_mails_lose_sender_and_subject_after_thirty_days(world: World) -> None:
    from mailbot.registrations.lifecycle import forget_old_mails

    world.register("maria@verein.example")
    with world.db.session() as s:
        assert not forget_old_mails(s, world.mailer(s))
    world.now = NOW + timedelta(days=31)
    with world.db.session() as s:
        assert forget_old_mails(s, world.mailer(s))
    with world.db.session() as s:
        rec = s.scalars(select(InboundRecord)).one()
        assert rec.sender == "" and rec.message_id  # identity stays: nothing runs twice


def test_the_calendar_location_names_the_city_once_and_is_empty_until_the_venue_is_known(
        world: World) -> None:
    world.register("maria@verein.example")
    with world.db.session() as s:
        set_venue(s, world.mailer(s), "werkstatt", "Freizeitheim Linden, 30451 Hannover")
    [first] = outbox(world, "confirmation")
    [notice] = outbox(world, "venue_notice")
    assert first.ics is not None and first.ics["location"] == "" and first.ics["city"] == "Hannover"
    assert notice.ics is not None and notice.ics["location"] == "Freizeitheim Linden, 30451 Hannover"


def test_a_colleague_who_does_not_come_is_taken_off_and_the_sender_stays(world: World) -> None:
    who = (Attendee("Annegret Wolters", "annegret@verein.example"), Attendee("Ines Brandt", None),
           Attendee("Jonas Berg", None))
    world.send(mail("annegret@verein.example", "Annegret Wolters"), intent(attendees=who,
                                                                           party_size=3))
    world.send(mail("annegret@verein.example", "Annegret Wolters",
                    text="Meine Kollegin Ines Brandt kommt doch nicht mit."),
               intent(IntentKind.CANCEL, attendees=(Attendee("Ines Brandt", None),)))
    r = regs(world)["annegret@verein.example"]
    assert (r.seats, r.state) == (2, RegState.REGISTERED)
    assert r.attendees == ["Annegret Wolters", "Jonas Berg"]


def test_a_mail_without_a_usable_sender_goes_to_review_and_creates_nobody(world: World) -> None:
    assert world.send(mail(sender="", name=""), intent()) == Outcome.REVIEW
    assert outbox(world) == [] and regs(world) == {}


@pytest.fixture
def pg_world(pg_url: str) -> Iterator[World]:
    w = World(pg_url, [event(), event("sommer", starts=event().starts + timedelta(days=200),
                                      ends=event().ends + timedelta(days=200))])
    yield w
    w.db.dispose()


def test_the_purge_keeps_a_person_registered_meanwhile_for_another_event(
        pg_world: World) -> None:
    world = pg_world
    world.register("p0@verein.example")
    world.now = event().ends + timedelta(days=31)

    def register_for_sommer(other: Session) -> None:  # another worker registers p0 again
        other.add(Registration(
            event=other.scalars(select(Event).where(Event.slug == "sommer")).one(),
            person=other.scalars(select(Person)).one(), uid="sommer-p0", seats=1,
            state=RegState.REGISTERED, created_at=world.now))

    def purge() -> bool:
        with world.db.session() as s:
            return purge_one_event(s, world.mailer(s))

    assert while_another_worker_holds(world.db, register_for_sommer, purge) is True
    with world.db.session() as s:
        assert s.execute(select(Event.slug, Person.email).join(Registration.event)
                         .join(Registration.person)).all() == [("sommer", "p0@verein.example")]


def _cancel_p0(other: Session) -> None:
    """Another worker cancels p0, holding the event's lock as a cancellation does."""
    werkstatt = other.scalars(select(Event).where(Event.slug == "werkstatt")
                              .with_for_update()).one()
    reg = other.scalars(select(Registration).where(Registration.event == werkstatt)).one()
    reg.state, reg.seats, reg.waiting_seats = RegState.CANCELLED, 0, 0


def test_a_cancellation_another_worker_made_first_is_not_made_again(pg_world: World) -> None:
    world = pg_world
    world.register("p0@verein.example")
    got = while_another_worker_holds(world.db, _cancel_p0,
                                     lambda: world.cancel("p0@verein.example"))
    assert got == Outcome.DONE
    assert outbox(world, "cancelled") == []
    assert [o.to_addr for o in outbox(world, "not_registered")] == ["p0@verein.example"]


def test_a_substitute_for_a_registration_cancelled_meanwhile_is_registered_anew(
        pg_world: World) -> None:
    world = pg_world
    world.register("p0@verein.example")
    aylin = Attendee("Aylin Yılmaz", "a.yilmaz@verein.example")
    got = while_another_worker_holds(world.db, _cancel_p0, lambda: world.send(
        mail("p0@verein.example", text="Statt mir kommt Aylin Yılmaz."),
        intent(attendees=(aylin,), substitute=aylin)))
    assert got == Outcome.DONE
    r = regs(world)
    assert r["p0@verein.example"].state == RegState.CANCELLED
    assert r["a.yilmaz@verein.example"].state == RegState.REGISTERED
    assert outbox(world, "substituted") == []  # nothing of p0's was left to hand over


def test_a_ja_to_an_offer_another_worker_lets_run_out_meanwhile_takes_no_seat(
        pg_url: str) -> None:
    w = World(pg_url, [event(capacity=1, confirm_hours=24)])
    for who in ("a", "b", "c"):
        w.register(f"{who}@verein.example")
    w.cancel("a@verein.example")  # b is offered the seat
    w.now = NOW + timedelta(hours=25)
    with w.db.session() as s:
        [offered] = expired_offers(s, w.now)
    got = while_another_worker_holds(  # the scheduler of another worker expires b's offer
        w.db, lambda other: expire_offer(other, w.mailer(other), offered),
        lambda: w.send(mail("b@verein.example", text="Ja"),
                       intent(IntentKind.OTHER, accepts_offer=True)))
    # the stale offer accepted was an error (registered with no seat): the mail quarantined
    assert isinstance(got, Outcome), got
    states = {email: r.state for email, r in regs(w).items()}
    assert states["b@verein.example"] == RegState.CANCELLED
    assert states["c@verein.example"] == RegState.OFFERED  # the seat went on, once
    assert not [o for o in outbox(w, "confirmation") if o.to_addr == "b@verein.example"]
    w.db.dispose()
