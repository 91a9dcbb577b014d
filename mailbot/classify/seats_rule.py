"""The chain rule for party size, and the group counts a cancellation needs."""

from __future__ import annotations

from mailbot.classify.closing import text_without_closing
from mailbot.classify.headcount import about_coming, headcount
from mailbot.classify.party import (
    accompanied_group,
    companions,
    first_group_size,
    group_size,
    listed_party,
)
from mailbot.classify.reading import Context, Flow
from mailbot.classify.sender import attending
from mailbot.parse.text import flowing, sentences
from mailbot.types import IntentKind


def all_of(sents: list[str], ctx: Context) -> int:
    """"für alle drei", "all four of us": the size of a group that withdraws together."""
    for s in sents:
        m = ctx.rules.regex("people.all_of").search(s)
        if m:
            word = m.group(1).casefold()
            return int(word) if word.isdigit() else ctx.rules.numbers("seats.number").get(word, 0)
    return 0


def group_size_change(body: str, ctx: Context) -> tuple[int | None, int | None]:
    """("zu dritt angemeldet", "nur noch zu zweit") -> (3, 2); "statt zu dritt" counts too:
    the first total after "nur noch" is what is left, any other total what was before."""
    m = ctx.rules.regex("people.seats_now").search(body)
    if not m:
        return None, None
    window = body[m.start():m.start() + 40]
    first = first_group_size(window, ctx.rules)
    if first is None:
        return group_size(body[:m.start()], ctx.rules), None
    now, a, b = first
    rest = body[:m.start() + a] + " " + body[m.start() + b:]
    return group_size(rest, ctx.rules), now


def someone_count(text: str, ctx: Context) -> int | None:
    """How many of a group drop out: "meine Kollegin" = 1, "zwei Kolleginnen" = 2."""
    for rx in (*ctx.rules.patterns("seats.part_of_us"), *ctx.rules.patterns("seats.someone")):
        m = rx.search(text)
        if m:
            n = m.group("n")
            return (ctx.rules.numbers("seats.number").get(n.casefold(), 1) if n and
                    not n.isdigit() else int(n) if n else 1)
    return None


class SeatsRule:
    name = "seats"
    description = "Party size: totals ('zu dritt', '3 Plätze') or the sender plus companions"

    def apply(self, ctx: Context) -> Flow:
        if ctx.kind in (IntentKind.REGISTER, IntentKind.CANCEL):
            ctx.party_size = self._count(ctx)
        return Flow.CONTINUE

    def _count(self, ctx: Context) -> int:
        n = len(ctx.attendees)
        if ctx.kind == IntentKind.CANCEL:
            return ctx.cancel_seats or max(1, n)
        if ctx.via_forward or ctx.substitute:
            return max(1, n)
        text = text_without_closing(ctx.body, ctx)
        if n <= 1 and ctx.rules.pattern("seats.alone").search(flowing(text)):
            ctx.reasons.append("seats: 1 (the sender comes alone)")
            return 1
        # A stated total ("zu dritt", "3 Plätze", an enumeration with the sender in it) and the
        # people counted phrase by phrase ("mich + 1 Kollegin") are reconciled: the larger
        # wins, and the people named as attendees are a lower bound.
        total = max(group_size(text, ctx.rules) or 0, listed_party(text, ctx.rules),
                    accompanied_group(flowing(text), ctx.rules))
        coming = about_coming(sentences(flowing(attending(text, ctx))), ctx.rules)
        heads = headcount(coming, ctx.rules)
        # the sender stands among the attendees also when nobody else was named; with people
        # counted ("bitte melden Sie drei Mitarbeiterinnen an") only a clause of their own
        # counts them in
        sender_in = any(a.email == ctx.mail.sender_email for a in ctx.attendees) and (
            n > 1 or not heads.others or
            any(ctx.rules.pattern("intent.self").search(s) for s in coming))
        others = max(heads.others, 0 if total else companions("\n".join(coming), ctx.rules))
        if heads.self_out:
            seats = max(1, others, total, n - (1 if sender_in else 0))
            ctx.reasons.append(f"seats: {seats} (the sender does not come{_quote(heads.why)})")
            return seats
        counted = others + (1 if heads.self_in or sender_in else 0)
        # a stated total is what the sender asks for, even when the phrases seem to add up to
        # more ("insgesamt fünf Frauen …, mich eingeschlossen")
        party = max(total or counted, n, 1)
        if party > 1 and total >= n and total:
            ctx.reasons.append(f"seats: {party} (a stated total)")
        elif party > 1 and counted >= n:
            ctx.reasons.append(f"seats: {party} (people counted{_quote(heads.why)})")
        elif party > 1:
            ctx.reasons.append(f"seats: {party} (one for each attendee)")
        return party


def _quote(sentence: str) -> str:
    return f": {sentence[:80]!r}" if sentence else ""
