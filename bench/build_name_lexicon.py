"""Distil the given-name lexicon (rules/names/given_names.txt) from the nomquamgender package.

mailbot needs to judge whether a capitalised word is a person's given name, for names of every
origin its mail comes from (German, Turkish, Arabic, Persian, Polish, Greek, West African,
Ukrainian, Eritrean, Vietnamese …). nomquamgender (MIT licence) ships name-gender data merged
from national and international sources (about 720,000 names, romanised and folded to ASCII
lower case with unidecode); mailbot only needs to know *that* a word is a given name, so this
script keeps the names that several sources agree on and that real people carry, and writes them
one per line with their provenance in a header. The derived list is committed (about 400 KB);
this script is the way to refresh it:

    pip install nomquamgender            # build time only, never a runtime dependency
    .venv/bin/python bench/build_name_lexicon.py [--min-sources 4] [--min-count 20]
    .venv/bin/python bench/build_name_lexicon.py --coverage   # on the names of all corpus labels

The gender figures of the source are dropped: mailbot never guesses anyone's gender.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import unicodedata
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "rules" / "names" / "given_names.txt"


def source() -> tuple[dict[str, list], str]:
    # the data file is read without importing the package (its code needs numpy and unidecode)
    spec = importlib.util.find_spec("nomquamgender")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("pip install nomquamgender first (build time only)")
    data = Path(next(iter(spec.submodule_search_locations)), "name_data.json").read_text("utf-8")
    return json.loads(data), metadata.version("nomquamgender")


def keep(name: str, row: list, min_sources: int, min_count: int) -> bool:
    # row: [number of sources, people counted, p(female), …]; a name only one or two sources
    # know, or very few people carry, is as often a word of a sentence ("Bitte", "Sehr")
    return (len(name) >= 2 and name.isascii() and name.isalpha()
            and row[0] >= min_sources and row[1] >= min_count)


def coverage(names: set[str]) -> None:
    """Share of the given names in all labelled corpora that the lexicon knows."""
    sys.path[:0] = [str(ROOT)]
    from mailbot.classify.name_lexicon import load_lexicon

    lexicon = load_lexicon(OUT)
    labels = sorted(ROOT.glob("tests/fixtures/corpora/*/labels.jsonl"))
    shared = ROOT.parent / "shared" / "corpus" / "labels.jsonl"
    given: set[str] = set()
    for path in [*labels, *([shared] if shared.exists() else [])]:
        for line in path.read_text("utf-8").splitlines():
            for a in json.loads(line).get("attendees") or [] if line.strip() else []:
                if a.get("name"):
                    given |= set(a["name"].split()[0].split("-"))
    missing = sorted(g for g in given if not lexicon.knows(g))
    print(f"{len(given) - len(missing)}/{len(given)} given names of the corpus labels known;"
          f" missing: {', '.join(missing) or '-'}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--min-sources", type=int, default=4)
    ap.add_argument("--min-count", type=int, default=20)
    ap.add_argument("--coverage", action="store_true", help="only measure the committed list")
    a = ap.parse_args()
    if a.coverage:
        coverage(set())
        return 0
    data, version = source()
    names = sorted(n for n, row in data.items()
                   if keep(unicodedata.normalize("NFC", n), row, a.min_sources, a.min_count))
    header = [
        "# Given names of many origins, romanised, folded to ASCII lower case; one per line.",
        f"# Source: nomquamgender {version} (name_data.json), MIT licence,",
        "#   Copyright (c) 2022 Ian Van Buskirk; name data merged from national and",
        "#   international sources (up to 35 of them agree on one name);",
        "#   see Van Buskirk, Clauset, Larremore: An open-source cultural consensus approach to",
        "#   name-based gender classification, 2023. Gender figures are not kept.",
        f"# Kept: names known to >= {a.min_sources} sources and carried by >= {a.min_count} people.",
        "# Licence text: rules/names/LICENSE-nomquamgender.txt.",
        "# Made by bench/build_name_lexicon.py; refresh with it, do not edit by hand.",
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(header + names) + "\n", encoding="utf-8")
    print(f"{len(names)} names -> {OUT.relative_to(ROOT)} ({OUT.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
