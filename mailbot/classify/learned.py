"""A learned intent model (scikit-learn) trained on the project's own labelled mails.

The training data ships with the rules: `<rules>/learned/intents.jsonl`, one object per line
with `subject`, `text`, `language` and `intent` (made by bench/build_training_data.py from the
labelled corpora under tests/fixtures/, e-mail addresses removed). The model is trained on first
use and kept for the process (a fit takes well under a second); scikit-learn is imported only
then, so a process whose mails never reach the model never pays for the import.

Features: character n-grams (2–5, within words) and word uni- and bigrams of the subject and the
new text, with the language as one more token; a logistic regression with a fixed random_state,
so the same data always gives the same model. The policy of where the model may decide is in
mailbot/classify/learned_rule.py.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from mailbot.rulebook import Rules
from mailbot.types import InboundMail, IntentKind

DATA_FILE = Path("learned") / "intents.jsonl"
# Long mails are mostly pasted material; the opening carries what the sender wants.
MAX_CHARS = 2500
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.I)
_DIGITS = re.compile(r"\d")


def strip_addresses(text: str) -> str:
    """The text without e-mail addresses (nobody's address belongs in the training data)."""
    return _EMAIL.sub(" ", text)


def features(subject: str, text: str, language: str) -> str:
    """The one string the model reads: language token, subject, the new text (links and
    addresses reduced to a mark, digits to 0)."""
    body = _URL.sub(" _url_ ", strip_addresses(text[:MAX_CHARS]))
    subject = _URL.sub(" _url_ ", strip_addresses(subject))
    return _DIGITS.sub("0", f"_lang_{language} _subj_ {subject}\n{body}")


def mail_features(mail: InboundMail) -> str:
    return features(mail.subject, mail.text, mail.language)


class IntentModel(Protocol):
    """What the chain rule asks of a model (a trained Model, or a stand-in in tests)."""

    def probabilities(self, mail: InboundMail) -> dict[IntentKind, float]: ...


class Model:
    """A trained intent model: probabilities of each intent for one mail.

    Prediction does by hand what the pipeline does (analyse, sublinear tf·idf, l2 norm per
    vectoriser, linear scores, softmax) on one text: the same figures in a tenth of the time,
    since scikit-learn's per-call checks cost more than the arithmetic."""

    def __init__(self, pipeline: Any, size: int):
        import numpy as np

        self._pipeline = pipeline
        self.size = size  # number of training examples
        self.classes: tuple[IntentKind, ...] = tuple(IntentKind(c) for c in pipeline.classes_)
        lr = pipeline.named_steps["model"]
        coef = np.asarray(lr.coef_, dtype=np.float64)
        self._intercept = np.asarray(lr.intercept_, dtype=np.float64)
        self._parts: list[tuple[Any, dict[str, int], Any, Any]] = []
        offset = 0
        for _, vec in pipeline.named_steps["features"].transformer_list:
            width = len(vec.vocabulary_)
            self._parts.append((vec.build_analyzer(), vec.vocabulary_,
                                np.asarray(vec.idf_, dtype=np.float64),
                                np.ascontiguousarray(coef[:, offset:offset + width])))
            offset += width

    def probabilities(self, mail: InboundMail) -> dict[IntentKind, float]:
        return self.probabilities_of(mail_features(mail))

    def probabilities_of(self, text: str) -> dict[IntentKind, float]:
        import numpy as np

        scores = self._intercept.copy()
        for analyse, vocabulary, idf, weights in self._parts:
            counts: dict[int, int] = {}
            for term in analyse(text):
                col = vocabulary.get(term)
                if col is not None:
                    counts[col] = counts.get(col, 0) + 1
            if not counts:
                continue
            cols = np.fromiter(counts, dtype=np.intp, count=len(counts))
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            vals = tf * idf[cols]
            scores += weights[:, cols] @ (vals / np.sqrt(vals @ vals))
        scores -= scores.max()
        probs = np.exp(scores)
        probs /= probs.sum()
        return {k: float(p) for k, p in zip(self.classes, probs, strict=True)}

    def best(self, mail: InboundMail) -> tuple[IntentKind, float]:
        probs = self.probabilities(mail)
        kind = max(probs, key=lambda k: (probs[k], k.value))
        return kind, probs[kind]


def train(rows: Iterable[Mapping[str, str]]) -> Model:
    """Fit the model on rows with subject, text, language and intent; deterministic."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    texts: list[str] = []
    labels: list[str] = []
    for row in rows:
        texts.append(features(row.get("subject", ""), row.get("text", ""),
                              row.get("language", "")))
        labels.append(IntentKind(row["intent"]).value)
    if len(set(labels)) < 2:
        raise ValueError("the model needs examples of at least two intents")
    union = FeatureUnion([
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                  min_df=2, lowercase=True, dtype=_float32())),
        ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                  lowercase=True, token_pattern=r"(?u)\b\w+\b",
                                  dtype=_float32())),
    ])
    pipeline = Pipeline([
        ("features", union),
        ("model", LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced",
                                     random_state=0)),
    ])
    pipeline.fit(texts, labels)
    return Model(pipeline, len(texts))


def _float32() -> Any:
    import numpy as np

    return np.float32


def read_rows(path: Path) -> list[dict[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rows.append(json.loads(line))
    return rows


# The process's model: trained from the data file of a rules directory on first use, unless
# `use()` put another one (or none) in place.
_lock = threading.Lock()
_trained: dict[Path, Model | None] = {}
_override: list[IntentModel | None] = []


def data_file(rules: Rules) -> Path:
    return Path(rules.directory) / DATA_FILE


def model_for(rules: Rules) -> IntentModel | None:
    """The model for these rules: None when the rules ship no training data."""
    if _override:
        return _override[-1]
    path = data_file(rules)
    if path in _trained:
        return _trained[path]
    with _lock:
        if path not in _trained:
            _trained[path] = train(read_rows(path)) if path.is_file() else None
        return _trained[path]


@contextmanager
def use(model: IntentModel | None) -> Iterator[None]:
    """Classify with `model` (None: no model) inside the block, whatever the rules ship."""
    _override.append(model)
    try:
        yield
    finally:
        _override.pop()
