"""Destructive requests from unverified senders wait for a "Ja" from the address itself
(issue 10, Trust), through the apply chain on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailbot.models import OutboxRow, PendingAction, PendingState, Person, Registration, RegState
from mailbot.types import Attendee, IntentKind, Outcome, TrustPolicy
from tests.factories import AUTHSERV, NOW, World, event, intent, mail, while_another_worker_holds

MARIA = "maria@verein.example"
FORGED = ()  # no Authentication-Results of ours: anyone could have written this From:


@pytest.fixture
def world(db_url: str) -> World:
    w = World(db_url, [event(capacity=1)])
    w.register(MARIA, "Maria Muster")
    w.register("berit@verein.example", "Berit Brandt")  # waits for Maria's seat
    return w


def outbox(w: World, template: str | None = None) -> list[OutboxRow]:
    with w.db.session() as s:
        q = select(OutboxRow).order_by(OutboxRow.id)
        return list(s.scalars(q.where(OutboxRow.template == template) if template else q))


def states(w: World) -> dict[str, RegState]:
    with w.db.session() as s:
        return {r.person.email: r.state for r in s.scalars(select(Registration))}


def pending(w: World) -> list[PendingAction]:
    with w.db.session() as s:
        return list(s.scalars(select(PendingAction).order_by(PendingAction.id)))


def forged_cancel(w: World, **kw: object) -> Outcome:
    return w.send(mail(MARIA, "Maria Muster", text="Ich sage ab.",
                       authentication_results=FORGED, **kw), intent(IntentKind.CANCEL))


def answer(w: World, text: str, refs: tuple[str, ...], sender: str = MARIA) -> Outcome:
    """A short reply to our mail, as classify reads it (OfferAnswerRule: yes / no)."""
    yes = text.lower().startswith(("ja", "yes"))
    return w.send(mail(sender, text=text, in_reply_to=refs, authentication_results=FORGED),
                  intent(IntentKind.REGISTER if yes else IntentKind.CANCEL, event=None,
                         accepts_offer=yes))


def test_a_forged_cancellation_changes_nothing_and_asks_the_address_itself(world: World) -> None:
    assert forged_cancel(world, reply_to="mallory@evil.example") == Outcome.DONE
    assert states(world) == {MARIA: RegState.REGISTERED, "berit@verein.example": RegState.WAITING}
    [ask] = outbox(world, "confirm_request")
    assert ask.to_addr == MARIA  # never the Reply-To the forger chose
    assert ask.context["action"] == "cancel" and ask.context["event"]["slug"] == "werkstatt"
    assert [o.to_addr for o in outbox(world)].count("mallory@evil.example") == 0
    [row] = pending(world)
    assert row.token == ask.message_id and row.state == PendingState.PENDING
    assert row.expires_at == NOW + timedelta(hours=48)


def test_the_owner_confirms_with_ja_in_reply_and_the_cancellation_is_carried_out(
        world: World) -> None:
    forged_cancel(world)
    [ask] = outbox(world, "confirm_request")
    assert answer(world, "Ja", (ask.message_id,)) == Outcome.DONE
    assert states(world) == {MARIA: RegState.CANCELLED, "berit@verein.example": RegState.REGISTERED}
    [done] = outbox(world, "cancelled")
    assert done.to_addr == MARIA and done.context["event"]["slug"] == "werkstatt"
    assert [o.to_addr for o in outbox(world, "moved_up")] == ["berit@verein.example"]
    [row] = pending(world)
    assert row.state == PendingState.DONE and row.payload == {}
    assert answer(world, "Ja", (ask.message_id,)) == Outcome.DONE  # a second "Ja": nothing twice
    assert len(outbox(world, "cancelled")) == 1


def test_ja_from_another_address_does_nothing_destructive(world: World) -> None:
    forged_cancel(world)
    [ask] = outbox(world, "confirm_request")
    assert answer(world, "Ja", (ask.message_id,), sender="mallory@evil.example") == Outcome.REVIEW
    assert states(world)[MARIA] == RegState.REGISTERED
    assert pending(world)[0].state == PendingState.PENDING


def test_ja_without_our_token_confirms_nothing(world: World) -> None:
    forged_cancel(world)
    answer(world, "Ja", ("guessed.werkstatt.mailbot@mitgen.example",))
    assert states(world)[MARIA] == RegState.REGISTERED
    assert pending(world)[0].state == PendingState.PENDING


def test_nein_drops_the_request(world: World) -> None:
    forged_cancel(world)
    [ask] = outbox(world, "confirm_request")
    assert answer(world, "Nein", (ask.message_id,)) == Outcome.DONE
    assert states(world)[MARIA] == RegState.REGISTERED
    assert pending(world)[0].state == PendingState.REFUSED
    assert [o.to_addr for o in outbox(world, "confirm_refused")] == [MARIA]


def test_a_late_ja_gets_a_polite_expired_answer_and_changes_nothing(world: World) -> None:
    forged_cancel(world)
    [ask] = outbox(world, "confirm_request")
    world.now = NOW + timedelta(hours=49)
    assert answer(world, "Ja", (ask.message_id,)) == Outcome.DONE
    assert states(world)[MARIA] == RegState.REGISTERED
    assert pending(world)[0].state == PendingState.EXPIRED
    [late] = outbox(world, "confirm_expired")
    assert late.to_addr == MARIA and late.context["action"] == "cancel"


def test_the_confirmation_window_is_configurable(db_url: str) -> None:
    w = World(db_url, [event(capacity=1)], trust=TrustPolicy((AUTHSERV,), confirm_hours=2))
    w.register(MARIA)
    forged_cancel(w)
    [ask] = outbox(w, "confirm_request")
    w.now = NOW + timedelta(hours=3)
    answer(w, "Ja", (ask.message_id,))
    assert states(w)[MARIA] == RegState.REGISTERED and outbox(w, "confirm_expired")


def test_an_aligned_dkim_pass_from_our_server_cancels_at_once(world: World) -> None:
    world.send(mail(MARIA, text="Ich sage ab.", authentication_results=(
        f"{AUTHSERV}; dkim=pass header.d=verein.example header.s=2027",)),
        intent(IntentKind.CANCEL))
    assert states(world)[MARIA] == RegState.CANCELLED
    assert not outbox(world, "confirm_request") and not pending(world)


def test_a_pass_written_by_someone_else_is_not_trusted(world: World) -> None:
    forged_cancel_with_header = mail(MARIA, text="Ich sage ab.", authentication_results=(
        "mx.verein.example; dkim=pass header.d=verein.example; dmarc=pass",))
    world.send(forged_cancel_with_header, intent(IntentKind.CANCEL))
    assert states(world)[MARIA] == RegState.REGISTERED and outbox(world, "confirm_request")


def test_without_a_trusted_authserv_id_every_cancellation_needs_the_round_trip(
        db_url: str) -> None:
    w = World(db_url, [event(capacity=1)], trust=TrustPolicy())
    w.register(MARIA)  # registrations stay immediate
    assert states(w)[MARIA] == RegState.REGISTERED
    w.cancel(MARIA)  # even with our server's DKIM pass: nobody's headers are believed
    assert states(w)[MARIA] == RegState.REGISTERED and outbox(w, "confirm_request")


def test_a_forged_erasure_waits_and_the_confirmed_one_forgets_everything(world: World) -> None:
    world.send(mail(MARIA, text="Bitte löschen Sie meine Daten.", authentication_results=FORGED),
               intent(IntentKind.ERASE, event=None))
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Person)
                        .where(Person.email == MARIA)) == 1
    [ask] = outbox(world, "confirm_request")
    assert ask.context["action"] == "erase"
    answer(world, "Ja", (ask.message_id,))
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Person)
                        .where(Person.email == MARIA)) == 0
    assert states(world) == {"berit@verein.example": RegState.REGISTERED}
    assert pending(world) == []  # the held request named the address: it goes too
    assert outbox(world, "erased")


def test_a_forged_substitution_waits_for_the_owner(world: World) -> None:
    sub = Attendee("Eve Evil", "eve@evil.example")
    world.send(mail(MARIA, text="Statt mir kommt Eve.", authentication_results=FORGED),
               intent(IntentKind.REGISTER, substitute=sub))
    assert MARIA in states(world) and "eve@evil.example" not in states(world)
    [ask] = outbox(world, "confirm_request")
    assert ask.context["action"] == "substitute" and ask.context["substitute_name"] == "Eve Evil"
    answer(world, "Ja", (ask.message_id,))
    assert states(world)["eve@evil.example"] == RegState.REGISTERED


def test_declining_an_offer_from_an_unverified_sender_waits_accepting_does_not(
        db_url: str) -> None:
    w = World(db_url, [event(capacity=1, confirm_hours=24)])
    for who in ("a", "b", "c"):
        w.register(f"{who}@verein.example")
    w.cancel("a@verein.example")
    [offer] = outbox(w, "offer")
    answer(w, "Nein", (offer.message_id,), sender="b@verein.example")
    assert states(w)["b@verein.example"] == RegState.OFFERED
    [ask] = outbox(w, "confirm_request")
    assert ask.context["action"] == "decline" and ask.to_addr == "b@verein.example"
    answer(w, "Ja", (ask.message_id,), sender="b@verein.example")
    assert states(w)["b@verein.example"] == RegState.CANCELLED
    assert states(w)["c@verein.example"] == RegState.OFFERED
    [offer_c] = [o for o in outbox(w, "offer") if o.to_addr == "c@verein.example"]
    answer(w, "Ja", (offer_c.message_id,), sender="c@verein.example")  # accepting: at once
    assert states(w)["c@verein.example"] == RegState.REGISTERED


def test_a_ja_that_another_worker_is_carrying_out_is_not_carried_out_twice(pg_url: str) -> None:
    world = World(pg_url, [event(capacity=1)])
    world.register(MARIA, "Maria Muster")
    forged_cancel(world)
    [ask] = outbox(world, "confirm_request")

    def take_the_ja(other: Session) -> None:  # another worker took the "Ja" first
        other.scalars(select(PendingAction)).one().state = PendingState.DONE

    got = while_another_worker_holds(world.db, take_the_ja,
                                     lambda: answer(world, "Ja", (ask.message_id,)))
    assert got == Outcome.DONE
    assert outbox(world, "cancelled") == []  # the other worker's to carry out, not this one's
    assert states(world) == {MARIA: RegState.REGISTERED}
    world.db.dispose()
