"""Scoring of a labelled corpus (tests/fixtures/corpora/<name>/), like the shared score_corpus.py.

A corpus folder holds mails/*.eml, labels.jsonl (file, intent, event, attendees, organization,
party_size, has_question, why), events.toml, floors.toml and a README.md with its history.
Event and party_size are scored over register+cancel, attendees over register+cancel+erase
(addresses exact, names normalised; people without an address compared by name), organization
and has_question over register. A mail labelled auto_reply, bounce or other that comes out as
register/cancel/question/erase is unsafe: the bot would answer it.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any

from mailbot.classify import classify, load_default_rules
from mailbot.parse import parse
from mailbot.registrations.events_file import load_events

REPLYING = {"register", "cancel", "question", "erase"}
MACHINE_OR_OTHER = {"auto_reply", "bounce", "other"}
FIELDS = ("intent", "event", "attendees", "party", "organization")

_TITLES = re.compile(r"\b(frau|herr|dr|prof|mrs?|ms|dipl|ing)\b\.?", re.I)


def _norm_name(s: str | None) -> str:
    if not s:
        return ""
    s = unicodedata.normalize("NFKC", s).casefold()
    if "," in s:
        last, _, first = s.partition(",")
        s = f"{first} {last}"
    s = _TITLES.sub(" ", s)
    return " ".join(re.sub(r"[^\w\s-]", " ", s).split())


def _norm_org(s: str | None) -> str:
    if not s:
        return ""
    s = unicodedata.normalize("NFKC", s).casefold()
    s = re.sub(r"\be\.?\s?v\.?(?=\s|$)", " ", s)
    return " ".join(re.sub(r"[^\w\s]", " ", s).split())


def _org_ok(want: str | None, got: str | None) -> bool:
    w, g = _norm_org(want), _norm_org(got)
    if not w or not g:
        return w == g
    return w == g or w in g or g in w


def _attendees_ok(want: list[dict[str, Any]], got: list[dict[str, Any]]) -> bool:
    wm = {(a.get("email") or "").lower(): _norm_name(a.get("name")) for a in want if a.get("email")}
    gm = {(a.get("email") or "").lower(): _norm_name(a.get("name")) for a in got if a.get("email")}
    if set(wm) != set(gm):
        return False
    if any(n and n != gm[k] for k, n in wm.items()):
        return False
    wn = sorted(_norm_name(a.get("name")) for a in want if not a.get("email"))
    gn = sorted(_norm_name(a.get("name")) for a in got if not a.get("email"))
    return wn == gn


def _labels(here: Path) -> list[dict[str, Any]]:
    lines = (here / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def score(here: Path) -> dict[str, Any]:
    """Per-field hits, totals, rates, wrong fields and unsafe mails of a labelled corpus."""
    rules = load_default_rules()
    events = load_events(here / "events.toml")
    hits: Counter[str] = Counter()
    tot: Counter[str] = Counter()
    wrong: list[str] = []
    unsafe: list[str] = []
    for label in _labels(here):
        mail = parse((here / "mails" / label["file"]).read_bytes(), rules)
        got = classify(mail, events, rules)
        g: dict[str, Any] = {"intent": got.kind.value, "event": got.event,
             "attendees": [a.as_json() for a in got.attendees],
             "organization": got.organization, "party_size": got.party_size,
             "has_question": got.has_question}
        f, want = label["file"], label["intent"]

        def check(field: str, ok: bool, detail: str, f: str = f) -> None:
            tot[field] += 1
            hits[field] += ok
            if not ok:
                wrong.append(f"{f}: {field} {detail}")

        check("intent", g["intent"] == want, f"{want} -> {g['intent']}")
        if want in MACHINE_OR_OTHER and g["intent"] in REPLYING:
            unsafe.append(f"{f}: {want} -> {g['intent']}")
        if want in ("register", "cancel"):
            check("event", g["event"] == label["event"], f"{label['event']} -> {g['event']}")
            check("party", g["party_size"] == label["party_size"],
                  f"{label['party_size']} -> {g['party_size']}")
        if want in ("register", "cancel", "erase"):
            check("attendees", _attendees_ok(label["attendees"], g["attendees"]),
                  f"{label['attendees']} -> {g['attendees']}")
        if want == "register":
            check("organization", _org_ok(label["organization"], g["organization"]),
                  f"{label['organization']!r} -> {g['organization']!r}")
            check("question", bool(g["has_question"]) == bool(label["has_question"]),
                  f"{label['has_question']} -> {g['has_question']}")
    rate = {k: hits[k] / tot[k] for k in tot}
    return {"rate": rate, "hits": hits, "tot": tot, "wrong": wrong, "unsafe": unsafe}


def report(s: dict[str, Any]) -> str:
    figures = " ".join(f"{k}={s['hits'][k]}/{s['tot'][k]}" for k in s["tot"])
    return figures + "\n" + "\n".join(s["wrong"])


def check_consistent(here: Path, size: int | None) -> None:
    """Labels match the mails one to one and the label format; `size` mails when given."""
    labels = _labels(here)
    if size is not None:
        assert len(labels) == size
    assert sorted(label["file"] for label in labels) == sorted(
        p.name for p in (here / "mails").glob("*.eml"))
    slugs = {e.slug for e in load_events(here / "events.toml")}
    for label in labels:
        assert label["intent"] in REPLYING | MACHINE_OR_OTHER, label
        assert label["event"] is None or label["event"] in slugs, label
        assert label["why"], label
        if label["intent"] not in ("register", "cancel"):
            assert label["party_size"] == 0, label
        if label["intent"] in MACHINE_OR_OTHER | {"question"}:
            assert label["attendees"] == [] and label["organization"] is None, label
        for a in label["attendees"]:
            assert set(a) == {"name", "email"}, label
            assert a["email"] is None or a["email"].endswith(".example") \
                or a["email"].endswith(".example.de"), label


def read_floors(here: Path) -> dict[str, Any]:
    """The floors.toml of a corpus, checked: mails, unsafe = 0 and [floors] field = "hits/total".

    Returns {"mails": int, "unsafe": 0, "floors": {field: Fraction}}; raises ValueError when the
    file is missing or malformed (a new corpus must state its floors).
    """
    path = here / "floors.toml"
    if not path.is_file():
        raise ValueError(f"{path} is missing: a corpus must state its floors")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(data) - {"mails", "unsafe", "floors"}
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
    if not isinstance(data.get("mails"), int) or data["mails"] <= 0:
        raise ValueError(f"{path}: mails must be the number of labelled mails")
    if data.get("unsafe") != 0:
        raise ValueError(f"{path}: unsafe must be 0 (no machine or other mail is ever answered)")
    table = data.get("floors")
    if not isinstance(table, dict) or not table:
        raise ValueError(f"{path}: a [floors] table with at least one field is needed")
    out: dict[str, Fraction] = {}
    for field, value in table.items():
        if field not in FIELDS:
            raise ValueError(f"{path}: unknown field {field!r} (one of {', '.join(FIELDS)})")
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", value) if isinstance(value, str) else None
        if not m or int(m[2]) == 0 or int(m[1]) > int(m[2]):
            raise ValueError(f"{path}: {field} must be a fraction like \"40/40\", not {value!r}")
        out[field] = Fraction(int(m[1]), int(m[2]))
    return {"mails": data["mails"], "unsafe": 0, "floors": out}
