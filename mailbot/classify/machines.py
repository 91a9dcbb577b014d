"""Chain rules for mail nobody should answer: our own, bounces, auto-replies, list mail."""

from __future__ import annotations

from mailbot.classify.reading import Context, Flow
from mailbot.parse.machine import Marker, marker
from mailbot.types import IntentKind


def _markers(ctx: Context, kind: Marker) -> list[str]:
    prefix = kind.value + ":"
    return [m for m in ctx.mail.auto_markers if m.startswith(prefix)]


class OwnLoop:
    name = "own-loop"
    description = "Mail carrying mailbot's own loop header is never processed again"

    def apply(self, ctx: Context) -> Flow:
        if not ctx.mail.ours:
            return Flow.CONTINUE
        ctx.decide(IntentKind.OTHER, ctx.sure("own_loop"), "our own mail (loop header)")
        ctx.machine = True
        return Flow.STOP


class Bounce:
    name = "bounce"
    description = "Delivery status notifications and other bounces"

    def apply(self, ctx: Context) -> Flow:
        signals = _markers(ctx, Marker.BOUNCE)
        if not (ctx.mail.is_bounce_report or signals):
            return Flow.CONTINUE
        sure = bool(ctx.mail.bounced_recipients) or len(signals) > 1
        ctx.machine = True
        ctx.decide(IntentKind.BOUNCE, ctx.sure("bounce_sure" if sure else "bounce"),
                   "bounce: " + ", ".join(signals or ["report"]))
        return Flow.STOP


class AutoReply:
    name = "auto-reply"
    description = "Out-of-office notices and auto-responders, by header, subject or body"

    def apply(self, ctx: Context) -> Flow:
        signals = _markers(ctx, Marker.AUTO)
        if not signals:
            return Flow.CONTINUE
        ctx.machine = True  # an auto-responder, or automatic wording in unsolicited mail
        by_header = any(not s.endswith((":subject", ":body")) for s in signals)
        if list(ctx.mail.auto_markers) == [marker(Marker.AUTO, "body")] and \
                not ctx.mail.in_reply_to and \
                ctx.subject == ctx.mail.subject.strip() and \
                not ctx.rules.pattern("machine.absence").search(ctx.mail.text[:1500]):
            # "Diese Nachricht wurde automatisch erstellt." under a mail that answers nothing
            # (no reply headers, no Re:, no machine headers): no auto-responder wrote it, it is unsolicited
            # (phishing, newsletters); an absence notice stays one. Still final: nobody answers it either way.
            ctx.decide(IntentKind.OTHER, ctx.sure("automatic_unsolicited"),
                       "automatic wording in unsolicited mail")
            return Flow.STOP
        ctx.decide(IntentKind.AUTO_REPLY, ctx.sure(
            "auto_reply_sure" if by_header or len(signals) > 1 else "auto_reply"),
                   "automatic: " + ", ".join(signals))
        return Flow.STOP


class ListMail:
    name = "list-mail"
    description = "List and bulk mail (List-Id, List-Unsubscribe, Precedence: bulk)"

    def apply(self, ctx: Context) -> Flow:
        signals = _markers(ctx, Marker.LIST)
        if not signals:
            return Flow.CONTINUE
        ctx.machine = True  # `other`, but no human needs to look at it
        ctx.decide(IntentKind.OTHER, ctx.sure("list_mail"), "list or bulk mail: " + ", ".join(signals))
        return Flow.STOP
