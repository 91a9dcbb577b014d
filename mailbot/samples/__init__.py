"""The demo's sample mails, and the ones a reader process reads to warm up."""

from __future__ import annotations

from importlib import resources

# German mail of each kind and a bounce; not the English one: reading it loads the English
# tagger (~39 MB), which a worker that never sees English mail should not hold
WARM_UP = ("01-anmeldung.eml", "02-zu-dritt.eml", "04-kollege.eml", "06-abwesend.eml",
           "07-absage.eml", "08-frage.eml", "09-unzustellbar.eml")


def warm_up_mails() -> tuple[bytes, ...]:
    folder = resources.files(__name__)
    return tuple(folder.joinpath(name).read_bytes() for name in WARM_UP)
