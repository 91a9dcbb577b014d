"""Write rules/learned/intents.jsonl, the learned intent model's training data, from every
labelled corpus under tests/fixtures/ (a folder with labels.jsonl, mails/ and events.toml).

Each mail is read with mailbot's own parse(), so the model learns from exactly the text it will
see: one line per mail with its subject, new text, language and labelled intent, e-mail
addresses removed. Run it again after a corpus is added or parse changes:

    .venv/bin/python bench/build_training_data.py
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from mailbot.classify import load_default_rules
from mailbot.classify.learned import DATA_FILE, strip_addresses
from mailbot.parse import parse
from mailbot.rulebook import Rules

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def corpora(base: Path = FIXTURES) -> list[Path]:
    """Every folder under `base` that holds labels.jsonl, mails/ and events.toml."""
    found = [p.parent for p in base.rglob("labels.jsonl")
             if (p.parent / "mails").is_dir() and (p.parent / "events.toml").is_file()]
    return sorted(found, key=lambda p: str(p.relative_to(base)))


def labels(corpus: Path) -> list[dict[str, object]]:
    lines = (corpus / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def rows(corpus: Path, rules: Rules) -> list[dict[str, str]]:
    """One training row per labelled mail of the corpus (mails that are missing are skipped)."""
    out = []
    for label in labels(corpus):
        path = corpus / "mails" / str(label["file"])
        if not path.is_file():
            continue
        mail = parse(path.read_bytes(), rules)
        out.append({"corpus": corpus.name, "subject": strip_addresses(mail.subject),
                    "text": strip_addresses(mail.text), "language": mail.language,
                    "intent": str(label["intent"])})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("-o", "--output", default=str(ROOT / "rules" / DATA_FILE))
    a = ap.parse_args()
    rules = load_default_rules()
    out: list[dict[str, str]] = []
    for corpus in corpora():
        out += rows(corpus, rules)
    target = Path(a.output)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out),
                      encoding="utf-8")
    counts = Counter(r["intent"] for r in out)
    print(f"{target}: {len(out)} mails from {len({r['corpus'] for r in out})} corpora; "
          + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
