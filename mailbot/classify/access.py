"""The chain rule for requests to see one's own stored data (DSGVO Art. 15).

"Welche Daten haben Sie über mich gespeichert?" / "What data do you hold about me?" is a
request for access, not a question for the coordinators: apply (mailbot/apply/access.py)
answers it with the sender's data, after the same confirmation as an erasure. The wording is in
rules/de/access.toml and rules/en/access.toml. An erasure that also names Art. 15 stays an
erasure (its rule runs first): the data go, there is nothing left to show.
"""

from __future__ import annotations

from mailbot.classify.intents import _Undecided
from mailbot.classify.reading import Context
from mailbot.types import IntentKind

_REQUEST = "access.request"


class AccessRule(_Undecided):
    name = "access"
    description = "Requests for a copy of the personal data stored about the sender (DSGVO Art. 15)"

    def decide(self, ctx: Context) -> None:
        if ctx.hits(_REQUEST) or ctx.hits(_REQUEST, ctx.subject):
            # as sure as an erasure request: the same kind of explicit data-protection wording
            ctx.decide(IntentKind.ACCESS, ctx.sure("erase"), "asks which data are stored")
