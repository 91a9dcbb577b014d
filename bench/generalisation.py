"""Leave-one-corpus-out: how well does mailbot understand a labelled corpus it has not seen?

Every folder under tests/fixtures/ with labels.jsonl, mails/ and events.toml is a corpus. For
each one, the learned intent model is trained on all the other corpora only, and the left-out
corpus is scored (tests/corpus_scoring.py: the same figures as the corpus tests). The table is
printed twice: with the learned model, and rules only, so one sees what the model adds.

    .venv/bin/python bench/generalisation.py [--fill P] [--move P] [--unsure C] [--changes]
    .venv/bin/python bench/generalisation.py --sweep     # a grid of policies, means only
    .venv/bin/python bench/generalisation.py --clause-marks   # the model reads clause marks too
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from build_training_data import corpora, rows  # noqa: E402

from mailbot.classify import learned, learned_rule, load_default_rules  # noqa: E402
from mailbot.classify.learned_rule import Policy  # noqa: E402
from tests.corpus_scoring import score  # noqa: E402

COLUMNS = ("intent", "event", "attendees", "party", "organization", "question")


def _rate(s: dict[str, Any], field: str) -> float | None:
    return s["hits"][field] / s["tot"][field] if s["tot"][field] else None


def table(title: str, scored: dict[str, dict[str, Any]]) -> str:
    head = f"{'corpus':<12}" + "".join(f"{c:>13}" for c in COLUMNS) + f"{'unsafe':>8}"
    lines = [title, head]
    for name, s in scored.items():
        cells = "".join(f"{s['hits'][c]:>5}/{s['tot'][c]:<3} {_pct(_rate(s, c))}" for c in COLUMNS)
        lines.append(f"{name:<12}{cells}{len(s['unsafe']):>8}")
    lines.append(f"{'mean':<12}" + "".join(f"{'':>9}{_pct(mean(scored, c))}" for c in COLUMNS)
                 + f"{sum(len(s['unsafe']) for s in scored.values()):>8}")
    return "\n".join(lines)


def _pct(x: float | None) -> str:
    return "   -" if x is None else f"{round(100 * x):>3}%"


def mean(scored: dict[str, dict[str, Any]], field: str) -> float | None:
    rates = [r for s in scored.values() if (r := _rate(s, field)) is not None]
    return sum(rates) / len(rates) if rates else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    d = Policy()
    ap.add_argument("--fill", type=float, default=d.fill,
                    help=f"probability the model needs where no rule decided ({d.fill})")
    ap.add_argument("--move", type=float, default=d.move,
                    help=f"probability it needs to change an unsure rule decision ({d.move}; >1 never)")
    ap.add_argument("--unsure", type=float, default=d.unsure,
                    help=f"rule confidence below which a decision is unsure ({d.unsure})")
    ap.add_argument("--veto", type=float, default=d.veto,
                    help=f"probability of other+machine that stops an answered rule decision ({d.veto})")
    ap.add_argument("--veto-top", action="store_true",
                    help="veto only when the model's most likely intent is not an answered one")
    ap.add_argument("--changes", action="store_true", help="list the mails whose intent the model changed")
    ap.add_argument("--sweep", action="store_true", help="means for a grid of policies")
    ap.add_argument("--clause-marks", action="store_true",
                    help="the model reads the clause marks too (mailbot/classify/learned_clauses.py)")
    ap.add_argument("--min-intent", type=float, default=0.0,
                    help="exit 1 when the mean intent accuracy (model on) is below this")
    ap.add_argument("--min-attendees", type=float, default=0.0,
                    help="exit 1 when the mean attendee accuracy (model on) is below this")
    a = ap.parse_args()
    t0 = time.perf_counter()
    rules = load_default_rules()
    folders = corpora()
    data = {c: rows(c, rules) for c in folders}
    marks = rules if a.clause_marks else None
    models = {c: learned.train([r for o in folders if o != c for r in data[o]], marks)
              for c in folders}
    learned_rule.set_enabled(True)

    def run(model_on: bool) -> dict[str, dict[str, Any]]:
        out = {}
        for c in folders:
            with learned.use(models[c] if model_on else None):
                out[c.name] = score(c)
        return out

    off = run(False)
    if a.sweep:
        print(table("rules only", off).splitlines()[-1].replace("mean", "off "))
        for fill in (0.6, 0.7, 0.8, 0.85, 0.9, 1.01):
            for veto in (0.3, 0.4, 0.5, 1.01):
                for top in (True, False):
                    learned_rule.POLICY = Policy(fill=fill, veto=veto, veto_top=top)
                    on = run(True)
                    print(table("", on).splitlines()[-1].replace("mean", "")
                          + f"   fill={fill} veto={veto} veto_top={top}", flush=True)
        return 0
    learned_rule.POLICY = Policy(fill=a.fill, move=a.move, unsure=a.unsure, veto=a.veto,
                                 veto_top=a.veto_top)
    on = run(True)
    p = learned_rule.POLICY
    print(table(f"LOCO, learned model on (fill={p.fill}, veto={p.veto}, veto_top={p.veto_top}, "
                f"move={p.move}, unsure={p.unsure}; "
                f"trained on the other corpora)", on))
    print()
    print(table("LOCO, rules only (learned model off)", off))
    for label, scored in (("model on", on), ("rules only", off)):
        for name, sc in scored.items():
            for w in sc["unsafe"]:
                print(f"answered ({label}): {name}/{w}")
    if a.changes:
        print()
        for name in on:
            was = {w for w in off[name]["wrong"] if ": intent " in w}
            now = {w for w in on[name]["wrong"] if ": intent " in w}
            for w in sorted(was - now):
                print(f"fixed   {name}/{w}")
            for w in sorted(now - was):
                print(f"broken  {name}/{w}")
            for w in sorted(set(on[name]["unsafe"]) - set(off[name]["unsafe"])):
                print(f"UNSAFE  {name}/{w}")
    print(f"\n{sum(len(v) for v in data.values())} mails in {len(folders)} corpora, "
          f"{time.perf_counter() - t0:.1f} s")
    low = [f"{field} {got:.3f} < {floor}" for field, floor in
           (("intent", a.min_intent), ("attendees", a.min_attendees))
           if (got := mean(on, field) or 0.0) < floor]
    unsafe = sum(len(s["unsafe"]) for s in on.values())
    if low or unsafe:
        print("LOCO below its floors: " + ", ".join(low + ([f"unsafe {unsafe}"] if unsafe else [])))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
