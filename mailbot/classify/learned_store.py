"""The trained intent model's parameters in the cache directory, so that a process loads them in
a fraction of a second instead of training (mailbot/classify/learned.py).

One .npz file per model (numpy arrays, read with allow_pickle=False: nothing in it is ever
executed), named by a key: the sha256 of the training data, the feature and training settings,
the code that trains and analyses (learned.py, learned_analysers.py), the versions of
scikit-learn and numpy, and FORMAT. It holds the classes, the intercept and per vectoriser its
analyser settings, its terms in column order (JSON), its idf and its slice of the weights. A
file that is missing, unreadable or does not fit is ignored (the model is trained again); one
that cannot be written leaves the model in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mailbot.classify.learned import Model

FORMAT = 1
KEEP = 8  # models kept in the cache directory (the most recently written)
_PREFIX = "intent_model."
_SUFFIX = os.extsep + "npz"
_LIBRARIES = ("scikit-learn", "numpy")


def file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


def key(data: bytes, settings: dict[str, Any]) -> str:
    """The cache key of the model trained on `data` with `settings` (JSON-able)."""
    h = hashlib.sha256()
    h.update(json.dumps({"format": FORMAT, "data": hashlib.sha256(data).hexdigest(),
                         "settings": settings, "lib_versions": [_version(n) for n in _LIBRARIES]},
                        sort_keys=True).encode("utf-8"))
    return h.hexdigest()


def path_of(cache: Path, key: str) -> Path:
    return cache / (_PREFIX + key + _SUFFIX)


def save(cache: Path, key: str, model: Model) -> bool:
    """Write the model's parameters under `key` (atomically); False when it cannot be written."""
    import numpy as np

    parts = []
    arrays: dict[str, Any] = {"intercept": model.intercept}
    for i, part in enumerate(model.parts):
        terms = [""] * len(part.vocabulary)
        for term, col in part.vocabulary.items():
            terms[col] = term
        parts.append({"analyzer": part.analyse.settings(), "terms": terms})
        arrays[f"idf{i}"] = part.idf
        arrays[f"weights{i}"] = part.weights
    meta = {"format": FORMAT, "key": key, "size": model.size,
            "classes": [c.value for c in model.classes], "parts": parts}
    arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"),
                                   dtype=np.uint8)
    target = path_of(cache, key)
    try:
        cache.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache, prefix=_PREFIX)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _prune(cache)
    except OSError:
        return False
    return True


def _prune(cache: Path) -> None:
    """Keep the KEEP most recently written models."""
    files = []
    for p in cache.glob(_PREFIX + "*" + _SUFFIX):
        with contextlib.suppress(OSError):
            files.append((p.stat().st_mtime, p))
    for _, p in sorted(files, reverse=True)[KEEP:]:
        with contextlib.suppress(OSError):
            p.unlink()


def load(cache: Path, key: str) -> Model | None:
    """The model saved under `key`, or None when there is none that can be read."""
    target = path_of(cache, key)
    try:
        if not target.is_file():
            return None
        return _read(target, key)
    except Exception:  # noqa: BLE001 - whatever is wrong with the file, training again fixes it
        return None


def _read(target: Path, key: str) -> Model | None:
    import numpy as np

    from mailbot.classify.learned import Model, Part
    from mailbot.classify.learned_analysers import Analyzer
    from mailbot.types import IntentKind

    with np.load(target, allow_pickle=False) as npz:
        meta = json.loads(npz["meta"].tobytes().decode("utf-8"))
        if meta.get("format") != FORMAT or meta.get("key") != key:
            return None
        parts = []
        for i, spec in enumerate(meta["parts"]):
            terms = spec["terms"]
            vocabulary = {str(t): col for col, t in enumerate(terms)}
            if len(vocabulary) != len(terms):
                return None
            parts.append(Part(Analyzer(**spec["analyzer"]), vocabulary, npz[f"idf{i}"],
                              npz[f"weights{i}"]))
        return Model([IntentKind(c) for c in meta["classes"]], npz["intercept"], parts,
                     int(meta["size"]))
