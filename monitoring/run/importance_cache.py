"""Feature importance cached in the results store, so a daily run does not refit the surrogate model.

An entry's key hashes everything the importance depends on: the data's files and their versions, the
window, the target, the features and the configuration. A new, rewritten or removed file changes the key,
so an entry is never stale, and the same reference read every day hits the same entry.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl
from pydantic import ValidationError

from monitoring.data.read import file_versions
from monitoring.errors import MonitoringError, SignalError
from monitoring.storage.base import Store
from signals.importance import Importance, ImportanceConfig, ImportanceError, Task, feature_importance
from signals.info import FeatureKind

if TYPE_CHECKING:
    from monitoring.data.refs import DataRef

log = logging.getLogger(__name__)

#: Folder under ``<monitor>/`` in the results store where fitted feature importances are cached. (The
#: store's path rule rejects names starting with ``_``, so this is ``cache``, not ``_cache``.)
IMPORTANCE_CACHE_FOLDER = "cache"
#: Bumped when the importance computation changes, so old cache entries are not reused.
IMPORTANCE_VERSION = 1




def importance_fingerprint(ref: DataRef, *, target: str, features: Sequence[str], overrides: Mapping[str, str],
                           task: str | None, segment: Mapping[str, Any] | None, config: ImportanceConfig) -> str:
    """A hash of everything importance depends on: the data's files and versions, window, target and config.

    Any new, rewritten or removed file changes it, so a cache entry is never stale; the same reference
    read daily hits the same entry.
    """
    document = {
        "version": IMPORTANCE_VERSION, "uri": ref.uri, "source": ref.source, "window": ref.window,
        "timestamp_column": ref.timestamp_column, "files": file_versions(ref.uri), "target": target,
        "features": list(features), "overrides": dict(overrides), "task": task, "segment": segment,
        "config": {k: v for k, v in config.to_dict().items() if k != "predict_threads"},
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()[:32]


def cached_importance(ref: DataRef, load: Callable[[], tuple[pl.DataFrame, Mapping[str, FeatureKind | None]]], *,
                      monitor: str, store: Store | None, target: str, features: Sequence[str],
                      overrides: Mapping[str, str], task: Task | None, segment: Mapping[str, Any] | None,
                      config: ImportanceConfig | None = None) -> tuple[Importance, bool]:
    """Feature importance of ``ref`` from ``<monitor>/cache/importance-<fingerprint>.json``, else computed
    (``load`` reads the frame and its kinds only then) and stored. Returns it and whether it was cached.

    The cache is an optimisation: a store or fingerprint that fails is logged and the importance computed.
    """
    config = config or ImportanceConfig()
    path: str | None = None
    if store is not None and monitor:
        try:
            key = importance_fingerprint(ref, target=target, features=features, overrides=overrides, task=task,
                                         segment=segment, config=config)
            path = f"{monitor}/{IMPORTANCE_CACHE_FOLDER}/importance-{key}.json"
            data = store.read_bytes(path)
            if data is not None:
                return Importance.model_validate_json(data), True
        except (OSError, MonitoringError, ValidationError, ValueError) as exc:
            log.warning("feature importance cache unavailable for %s: %s", ref.uri, exc)
    frame, kinds = load()
    usable = [f for f in features if f in frame.columns and kinds.get(f) is not None]
    if not usable:
        raise SignalError(f"no usable feature columns to compute feature importance from in {ref.uri}")
    try:
        importance = feature_importance(frame, target=target, features=usable,
                                        kinds={f: k for f in usable if (k := kinds[f]) is not None},
                                        task=task, config=config)
    except ImportanceError as exc:
        raise SignalError(f"feature importance on {ref.uri}: {exc}") from None
    if store is not None and path is not None:
        try:
            store.write_bytes(path, importance.model_dump_json().encode(), content_type="application/json")
        except (OSError, MonitoringError) as exc:
            log.warning("cannot cache feature importance at %s: %s", path, exc)
    return importance, False


__all__ = ["IMPORTANCE_CACHE_FOLDER", "IMPORTANCE_VERSION", "cached_importance", "importance_fingerprint"]
