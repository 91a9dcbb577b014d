"""The two analysers of the learned intent model (mailbot/classify/learned.py) in plain Python.

scikit-learn's `char_wb` and `word` analysers, re-implemented so that a model loaded from the
cache (mailbot/classify/learned_store.py) predicts without importing scikit-learn. Part of the
code the model's cache key covers (learned.training_key).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_SPACES = re.compile(r"\s\s+")


class Analyzer:
    """scikit-learn's `char_wb` and `word` analysers (no accents stripped, no stop words) in
    plain Python: the same terms in the same order, so prediction needs no scikit-learn."""

    def __init__(self, kind: str, ngram_range: Iterable[int], lowercase: bool = True,
                 token_pattern: str | None = None):
        low, high = (int(n) for n in ngram_range)
        if kind not in ("char_wb", "word") or (kind == "word") != (token_pattern is not None) \
                or not 1 <= low <= high:
            raise ValueError(f"unsupported analyser {kind!r} {low}-{high}")
        self.kind, self.low, self.high = kind, low, high
        self.lowercase = bool(lowercase)
        self.token_pattern = token_pattern
        self._tokens = re.compile(token_pattern).findall if token_pattern is not None else None

    def settings(self) -> dict[str, Any]:
        return {"kind": self.kind, "ngram_range": [self.low, self.high],
                "lowercase": self.lowercase, "token_pattern": self.token_pattern}

    def __call__(self, text: str) -> list[str]:
        if self._tokens is None:  # n-grams inside words, each padded with one space
            out: list[str] = []
            for w in self.words(text):
                self.word_grams(w, out)
            return out
        if self.lowercase:
            text = text.lower()
        tokens = self._tokens(text)
        out = tokens[:] if self.low == 1 else []
        for n in range(max(self.low, 2), min(self.high, len(tokens)) + 1):
            out.extend([" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)])
        return out

    def words(self, text: str) -> list[str]:
        """The words `char_wb` takes its n-grams from, in order: the n-grams of a text are
        those of each of its words, so they may be found once per distinct word."""
        return _SPACES.sub(" ", text.lower() if self.lowercase else text).split()

    def word_grams(self, word: str, out: list[str]) -> list[str]:
        """The `char_wb` n-grams of one word, in scikit-learn's order, added to `out`."""
        add = out.append
        w = " " + word + " "
        size = len(w)
        for n in range(self.low, self.high + 1):
            add(w[:n])
            i = 0
            while i + n < size:  # (a loop: faster than a comprehension per word)
                i += 1
                add(w[i:i + n])
            if i == 0:  # a short word counts once
                break
        return out


def analyzer_of(vec: Any) -> Analyzer:
    """The plain-Python analyser of a TfidfVectorizer (only the kinds train() uses)."""
    if any(v is not None for v in (vec.preprocessor, vec.tokenizer, vec.stop_words,
                                   vec.strip_accents)) or callable(vec.analyzer):
        raise ValueError("only plain analysers are re-implemented")
    return Analyzer(vec.analyzer, vec.ngram_range, vec.lowercase,
                    vec.token_pattern if vec.analyzer == "word" else None)
