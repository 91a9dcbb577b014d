"""The chain rule that keeps unsolicited commercial offers from being answered.

Vendors write to event organisers (SEO, catering, software, event agencies, interpreters,
printers, photographers, venues, recruiters); their mails ask questions ("Hätten Sie Zeit für
ein kurzes Gespräch?") and end in marketing footers ("Abmelden", "unsubscribe") that the intent
rules would read as a question or a cancellation. Such a mail is `other`: it goes to the
coordinators' digest, never gets an answer.

No single word decides. Independent signals (rules/de|en/unsolicited.toml) are weighed
(rules/unsolicited.toml): vendor vocabulary (offer, services, prices, references), a pitch for
a sales contact (a short call, a demo, a quote), the trades that sell to organisers, the
organisers addressed as a business ("für Ihre Veranstaltung", "your attendees") and a marketing
footer. The mail is an offer when the weights of at least `min_signals` different signals reach
`threshold` and the sender neither registers nor cancels for themself: "Danke für das Angebot,
ich melde mich an. Gibt es vegane Gerichte beim Catering?" stays a registration.

A marketing footer is no cancellation either: a mail whose only cancel or erase wording stands
in its footer lines ("Newsletter abbestellen", "Wenn Sie keine weiteren Informationen wünschen,
antworten Sie mit Abmelden") is `other` too, whatever its score.
"""

from __future__ import annotations

from mailbot.classify.intents import cancellations, strong_registrations
from mailbot.classify.reading import Context, Flow
from mailbot.types import IntentKind

# The signals read in the new text (and the subject), by rule section; the section's last part
# names its weight in unsolicited.score.
_SIGNALS = ("unsolicited.vendor", "unsolicited.pitch", "unsolicited.trade", "unsolicited.business")
_FOOTER = "unsolicited.footer"
_SCORE = "unsolicited.score"
# How far into the whole decoded body a marketing footer is looked for (footers come last,
# after the signature cut; a mail longer than this is not read further)
_FOOTER_TEXT = 20000


def _weight_name(section: str) -> str:
    return section.rpartition(".")[2]


def _footer_like(text: str, ctx: Context) -> bool:
    """A marketing footer speaks to the reader; "Please unsubscribe me" is the sender's wish."""
    return bool(ctx.rules.pattern(_FOOTER).search(text)) and \
        not ctx.rules.pattern("intent.self").search(text)


def footer_lines(ctx: Context) -> list[str]:
    """Lines of the whole mail (signature and footer included) that are a marketing footer."""
    text = ctx.mail.full_text[:_FOOTER_TEXT] or ctx.mail.text
    if ctx.rules.pattern(_FOOTER).search(text) is None:
        return []
    return [line.strip() for line in text.split("\n")
            if line.strip() and _footer_like(line, ctx)]


def _in_footer(sentence: str, footer: set[str], ctx: Context) -> bool:
    return sentence in footer or _footer_like(sentence, ctx)


def own_wish(ctx: Context) -> list[str]:
    """Sentences in which the sender registers or cancels for themself, or asks to delete
    their data (not footer lines, not a vendor's "ich komme gern für ein kurzes Gespräch
    vorbei")."""
    me = ctx.rules.pattern("intent.self")
    sales = ctx.rules.any_of("unsolicited.vendor", "unsolicited.pitch")
    footer = set(ctx.hits(_FOOTER))
    wants = [s for s in strong_registrations(ctx) + cancellations(ctx) if me.search(s)]
    wants += ctx.hits("intent.erase")  # "löschen Sie meine Daten": always the sender's own
    return [s for s in wants if not sales.search(s) and not _in_footer(s, footer, ctx)]


def offer_signals(ctx: Context) -> tuple[float, list[str]]:
    """The weighed score of the mail as an offer, and the signals found ("trade×2")."""
    weights = ctx.rules.weights(_SCORE)
    cap = weights["cap"]
    score, found = 0.0, []
    for section in _SIGNALS:
        count = len(ctx.hits(section))
        if ctx.subject and ctx.rules.pattern(section).search(ctx.subject):
            count += 1
        count = min(count, int(cap))
        if count:
            name = _weight_name(section)
            score += weights[name] * count
            found.append(f"{name}×{count}")
    if footer_lines(ctx):
        name = _weight_name(_FOOTER)
        score += weights[name]
        found.append(name)
    return score, found


def footer_only_cancel(ctx: Context) -> bool:
    """Cancel or erase wording stands only in marketing footer lines (and not in the subject)."""
    lines = footer_lines(ctx)
    if not lines:
        return False
    said = ctx.hits("intent.cancel") + ctx.hits("intent.erase")
    if not said or ctx.rules.pattern("intent.cancel").search(ctx.subject):
        return False
    footer = set(ctx.hits(_FOOTER)) | set(lines)
    return all(_in_footer(s, footer, ctx) for s in said)


class UnsolicitedOffer:
    name = "unsolicited-offer"
    description = "Commercial offers to the organisers (vendors, venues, recruiters): other"

    def apply(self, ctx: Context) -> Flow:
        if ctx.kind is not None or own_wish(ctx):
            return Flow.CONTINUE
        weights = ctx.rules.weights(_SCORE)
        score, found = offer_signals(ctx)
        kinds = {f.partition("×")[0] for f in found}
        if score >= weights["threshold"] and len(kinds) >= weights["min_signals"]:
            ctx.decide(IntentKind.OTHER, weights["confidence"],
                       f"unsolicited offer: {', '.join(found)} (score {score:.2f})")
            return Flow.STOP
        if footer_only_cancel(ctx):
            ctx.decide(IntentKind.OTHER, weights["confidence"],
                       "marketing footer: its unsubscribe line is no cancellation")
            return Flow.STOP
        return Flow.CONTINUE
