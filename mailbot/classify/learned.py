"""A learned intent model (scikit-learn) trained on the project's own labelled mails.

The training data ships with the rules: `<rules>/learned/intents.jsonl`, one object per line
with `subject`, `text`, `language` and `intent` (made by bench/build_training_data.py from the
labelled corpora under tests/fixtures/, e-mail addresses removed). The model is trained on first
use and kept for the process; scikit-learn is imported only then, so a process whose mails never
reach the model never pays for the import. After training, its parameters are saved in the cache
directory (mailbot/classify/learned_store.py, no pickle), keyed by the training data, the
settings and the library versions: the next process loads them in a fraction of a second and
predicts without scikit-learn (its two analysers are re-implemented in
mailbot/classify/learned_analysers.py).

Features: character n-grams (2–5, within words) and word uni- and bigrams of the subject and the
new text, with the language as one more token; a logistic regression with a fixed random_state,
so the same data always gives the same model. The policy of where the model may decide is in
mailbot/classify/learned_rule.py.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import Any, Protocol

from mailbot.classify import learned_analysers, learned_store
from mailbot.classify.learned_analysers import Analyzer, analyzer_of  # still importable here
from mailbot.classify.learned_clauses import clause_marks
from mailbot.rulebook import Rules
from mailbot.types import InboundMail, IntentKind

log = logging.getLogger(__name__)

DATA_FILE = Path("learned") / "intents.jsonl"
# Long mails are mostly pasted material; the opening carries what the sender wants.
MAX_CHARS = 2500
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.I)
_DIGITS = re.compile(r"\d")
# The two vectorisers and the regression train() builds; part of the cache key.
CHARS: dict[str, Any] = {"analyzer": "char_wb", "ngram_range": (2, 5), "sublinear_tf": True,
                         "min_df": 2, "lowercase": True}
WORDS: dict[str, Any] = {"analyzer": "word", "ngram_range": (1, 2), "sublinear_tf": True,
                         "lowercase": True, "token_pattern": r"(?u)\b\w+\b"}
REGRESSION: dict[str, Any] = {"C": 10.0, "max_iter": 2000, "class_weight": "balanced",
                              "random_state": 0}


def strip_addresses(text: str) -> str:
    """The text without e-mail addresses (nobody's address belongs in the training data)."""
    return _EMAIL.sub(" ", text)


def features(subject: str, text: str, language: str, rules: Rules | None = None) -> str:
    """The one string the model reads: language token, subject, the new text (links and
    addresses reduced to a mark, digits to 0), and with `rules` the marks of its clauses
    (mailbot/classify/learned_clauses.py)."""
    body = _URL.sub(" _url_ ", strip_addresses(text[:MAX_CHARS]))
    subject = _URL.sub(" _url_ ", strip_addresses(subject))
    marks = "\n" + clause_marks(text, language, rules, MAX_CHARS) if rules is not None else ""
    return _DIGITS.sub("0", f"_lang_{language} _subj_ {subject}\n{body}{marks}")


def mail_features(mail: InboundMail, rules: Rules | None = None) -> str:
    return features(mail.subject, mail.text, mail.language, rules)


class IntentModel(Protocol):
    """What the chain rule asks of a model (a trained Model, or a stand-in in tests)."""

    def probabilities(self, mail: InboundMail) -> dict[IntentKind, float]: ...


class Part:
    """One vectoriser of a trained model: its analyser, vocabulary (term: column), idf and the
    regression's weights of its columns (classes × columns), all as float64."""

    def __init__(self, analyse: Analyzer, vocabulary: dict[str, int], idf: Any, weights: Any):
        import numpy as np

        self.analyse = analyse
        self.vocabulary = vocabulary
        self.idf = np.asarray(idf, dtype=np.float64)
        self.weights = np.ascontiguousarray(weights, dtype=np.float64)
        # char n-grams: the known columns of each word seen, as mails repeat their words
        self._by_word = _WordColumns(self) if analyse.kind == "char_wb" else None

    def columns(self, text: str) -> Counter[int]:
        """How often each known column occurs in the text, in the order of the analyser's
        terms (the order the arithmetic adds them up in, so the figures stay the same)."""
        if self._by_word is None:
            counted: Counter[Any] = Counter(map(self.vocabulary.get, self.analyse(text)))
            counted.pop(None, None)  # the unknown terms
            return counted
        by_word = self._by_word
        return Counter(chain.from_iterable(
            by_word[w] * n for w, n in Counter(self.analyse.words(text)).items()))


class _WordColumns(dict[str, tuple[int, ...]]):
    """word -> the columns of its known char n-grams (with repeats), found on first sight;
    emptied when full, so a long-running process keeps a bounded number of words."""

    LIMIT = 20_000

    def __init__(self, part: Part):
        super().__init__()
        self.part = part

    def __missing__(self, word: str) -> tuple[int, ...]:
        if len(self) >= self.LIMIT:
            self.clear()
        get = self.part.vocabulary.get
        cols = tuple(c for c in map(get, self.part.analyse.word_grams(word, []))
                     if c is not None)
        self[word] = cols
        return cols


class Model:
    """A trained intent model: probabilities of each intent for one mail.

    Prediction does by hand what the pipeline does (analyse, sublinear tf·idf, l2 norm per
    vectoriser, linear scores, softmax) on one text: the same figures in a tenth of the time,
    since scikit-learn's per-call checks cost more than the arithmetic."""

    def __init__(self, classes: Iterable[IntentKind], intercept: Any, parts: list[Part],
                 size: int):
        import numpy as np

        self.size = size  # number of training examples
        self.rules: Rules | None = None  # whose clause words made the clause marks it reads
        self.classes: tuple[IntentKind, ...] = tuple(classes)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.parts = parts
        width = len(self.classes)
        if self.intercept.shape != (width,) or any(
                p.idf.shape != (len(p.vocabulary),)
                or p.weights.shape != (width, len(p.vocabulary)) for p in parts):
            raise ValueError("the model's parameters do not fit together")

    @classmethod
    def from_pipeline(cls, pipeline: Any, size: int) -> Model:
        """The model of a fitted pipeline (FeatureUnion of TfidfVectorizers, then the regression)."""
        import numpy as np

        lr = pipeline.named_steps["model"]
        coef = np.asarray(lr.coef_, dtype=np.float64)
        intercept = np.asarray(lr.intercept_, dtype=np.float64)
        if len(pipeline.classes_) == 2:  # one score z for the second class: softmax of (0, z)
            coef = np.vstack([np.zeros_like(coef), coef])
            intercept = np.concatenate([np.zeros_like(intercept), intercept])
        parts: list[Part] = []
        offset = 0
        for _, vec in pipeline.named_steps["features"].transformer_list:
            width = len(vec.vocabulary_)
            parts.append(Part(analyzer_of(vec), {str(t): int(c) for t, c in vec.vocabulary_.items()},
                              vec.idf_, coef[:, offset:offset + width]))
            offset += width
        return cls((IntentKind(c) for c in pipeline.classes_), intercept, parts, size)

    def probabilities(self, mail: InboundMail) -> dict[IntentKind, float]:
        return self.probabilities_of(mail_features(mail, self.rules))

    def probabilities_of(self, text: str) -> dict[IntentKind, float]:
        import numpy as np

        scores = self.intercept.copy()
        for part in self.parts:
            counted = part.columns(text)
            if not counted:
                continue
            cols = np.fromiter(counted.keys(), dtype=np.intp, count=len(counted))
            tf = 1.0 + np.log(np.fromiter(counted.values(), dtype=np.float64,
                                          count=len(counted)))
            vals = tf * part.idf.take(cols)
            # take() gathers the same figures as weights[:, cols], in a third of the time
            scores += part.weights.take(cols, axis=1) @ (vals / np.sqrt(vals @ vals))
        scores -= scores.max()
        probs = np.exp(scores)
        probs /= probs.sum()
        return {k: float(p) for k, p in zip(self.classes, probs, strict=True)}

    def best(self, mail: InboundMail) -> tuple[IntentKind, float]:
        probs = self.probabilities(mail)
        kind = max(probs, key=lambda k: (probs[k], k.value))
        return kind, probs[kind]


def train(rows: Iterable[Mapping[str, str]], rules: Rules | None = None) -> Model:
    """Fit the model on rows with subject, text, language and intent; deterministic. With
    `rules`, it reads the clause marks of each text as well."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    texts: list[str] = []
    labels: list[str] = []
    for row in rows:
        texts.append(features(row.get("subject", ""), row.get("text", ""),
                              row.get("language", ""), rules))
        labels.append(IntentKind(row["intent"]).value)
    if len(set(labels)) < 2:
        raise ValueError("the model needs examples of at least two intents")
    union = FeatureUnion([
        ("chars", TfidfVectorizer(**CHARS, dtype=_float32())),
        ("words", TfidfVectorizer(**WORDS, dtype=_float32())),
    ])
    pipeline = Pipeline([("features", union), ("model", LogisticRegression(**REGRESSION))])
    pipeline.fit(texts, labels)
    model = Model.from_pipeline(pipeline, len(texts))
    model.rules = rules
    return model


def _float32() -> Any:
    import numpy as np

    return np.float32


def read_rows(path: Path) -> list[dict[str, str]]:
    return _rows(path.read_bytes())


def _rows(data: bytes) -> list[dict[str, str]]:
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]


def training_key(data: bytes, rules: Rules | None = None) -> str:
    """What the model trained on `data` (a training data file's bytes) depends on: the data, the
    features and settings, the code of this module, its analysers and (with `rules`) the clause
    reading and its word files, and the versions of the libraries that fit it."""
    from mailbot.classify import clause_segments, clause_words, clauses, learned_clauses

    code = [__file__, learned_analysers.__file__]
    if rules is not None:
        code += [m.__file__ or "" for m in (clauses, clause_words, clause_segments,
                                            learned_clauses)]
        code += sorted(str(p) for p in Path(rules.directory).glob(f"*/{clause_words.CLAUSE_FILE}"))
    return learned_store.key(data, {
        "features": [MAX_CHARS, _EMAIL.pattern, _URL.pattern, _DIGITS.pattern, rules is not None],
        "chars": CHARS, "words": WORDS, "regression": REGRESSION,
        "code": [learned_store.file_digest(Path(f)) for f in code if f],
    })


def load_or_train(path: Path, cache: Path | None, rules: Rules | None = None,
                  elsewhere: bool = True) -> Model:
    """The model of a training data file (reading clause marks with `rules`): from the cache when
    it holds it, else trained (and saved there if it can be: a cache that cannot be read or
    written only costs time). With a cache and without `rules` (a new process is handed only
    the two paths), the training runs in a process of its own (`elsewhere`) that fills the
    cache, and this one loads it from there."""
    data = path.read_bytes()
    key = training_key(data, rules)
    if cache is not None:
        cached = learned_store.load(cache, key)
        if cached is None and elsewhere and rules is None and _train_elsewhere(path, cache):
            cached = learned_store.load(cache, key)
        if cached is not None:
            cached.rules = rules
            return cached
    model = train(_rows(data)) if rules is None else train(_rows(data), rules)
    if cache is not None:
        learned_store.save(cache, key, model)
    return model


def _train_elsewhere(path: Path, cache: Path) -> bool:
    """Train in a new process, which saves the model in the cache: scikit-learn and the fit
    take ~180 MB that a long-running worker would otherwise keep to its end (its peak RSS
    more than doubled on its first start). False when that process could not do it (this
    one then trains by itself)."""
    import multiprocessing

    try:
        # spawn, not fork: the worker has threads (scheduler, LMTP) whose locks a fork copies
        proc = multiprocessing.get_context("spawn").Process(
            target=_train_to_cache, args=(str(path), str(cache)))
        proc.start()
        proc.join()
    except (OSError, AssertionError, RuntimeError) as exc:  # e.g. a daemon process
        log.info("learned model: training in a process of its own failed (%s); here", exc)
        return False
    return proc.exitcode == 0


def _train_to_cache(path: str, cache: str) -> None:
    load_or_train(Path(path), Path(cache), elsewhere=False)


# The process's model: trained from the data file of a rules directory on first use, unless
# `use()` put another one (or none) in place.
_lock = threading.Lock()
_trained: dict[Path, Model | None] = {}
_override: list[IntentModel | None] = []


def data_file(rules: Rules) -> Path:
    # asked for every mail the model reads: the path made once per rule set
    return rules.derived("learned.data_file", lambda r: Path(r.directory) / DATA_FILE)


def model_for(rules: Rules) -> IntentModel | None:
    """The model for these rules: None when the rules ship no training data."""
    if _override:
        return _override[-1]
    path = data_file(rules)
    if path in _trained:
        return _trained[path]
    with _lock:
        if path not in _trained:
            from mailbot.config import cache_dir

            # without clause marks: leave-one-corpus-out measured no gain from them in the
            # chain (bench/generalisation.py --clause-marks), and one more wrong veto
            _trained[path] = load_or_train(path, cache_dir()) if path.is_file() else None
        return _trained[path]


@contextmanager
def use(model: IntentModel | None) -> Iterator[None]:
    """Classify with `model` (None: no model) inside the block, whatever the rules ship."""
    _override.append(model)
    try:
        yield
    finally:
        _override.pop()
