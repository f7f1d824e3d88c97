"""The domain halves of value-range activities: one numerical feature split across many activities.

When the plan finds that one feature of a drift signal's two windows does not fit an activity's budget
(``ACTIVITY_MEMORY_MB``; ``plan_step``), the signal gets one batch per feature, marked ``ranged``. For each,
``signal_run`` calls ``summarize_step`` (phase 1 of ``monitoring.data.ranges``: streaming counts and the
boundaries, stored as ``summary.json``; 0 ranges when the feature is not split, e.g. categorical, or too
small for the asymptotic KS p-value, and ``compute_step`` then computes it whole), then ``range_step`` for
every range of every split feature at once (phase 2: each reads only its values and stores its share),
then ``combine_step`` (the exact combination, plus the profile's streaming bin counts, stored where
``compute_step`` stores the batch's result, so ``finish_step`` merges and re-gates it like any other).
Messages carry references and counts only. Store layout, under the run's prefix::

    parts/<signal>/ranges/<batch>/summary.json
    parts/<signal>/ranges/<batch>/<range>.json
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from monitoring.data.ranges import (
    FeatureSummary,
    RangeShare,
    combine_shares,
    needs_split,
    profile_bins,
    range_share,
    sample_every,
    sampled_side_stats,
    summarize,
)
from monitoring.errors import MonitoringError
from monitoring.run.batching import signal_rows
from monitoring.run.bounded import (
    is_numerical,
    one_feature_result,
    range_budget_rows,
    significance_of,
    splittable,
)
from monitoring.run.durable import BatchOutcome, BatchRef, _signal, part_path, read_plan, transient_errors
from monitoring.run.plan import RunPlan, SignalPlan
from monitoring.storage.base import write_json
from monitoring.text import one_line
from signals.registry import signal_info

if TYPE_CHECKING:
    from monitoring.storage.base import Store

log = logging.getLogger(__name__)


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FeatureRanges(_Message):
    """``summarize_feature``'s output: how many ``range_share`` activities the batch's feature needs (0: it
    is not split; ``compute_signal`` computes it)."""

    batch: BatchRef
    ranges: int = Field(ge=0)


class RangeRef(_Message):
    """``range_share``'s input: one value range of one batch's feature."""

    batch: BatchRef
    index: int = Field(ge=0)


def _folder(plan: RunPlan, ref: BatchRef) -> str:
    return f"{plan.prefix}/parts/{ref.signal}/ranges/{ref.batch}"


def _feature(store: Store, ref: BatchRef) -> tuple[RunPlan, SignalPlan, str]:
    plan = read_plan(store, ref.plan_path)
    signal = _signal(plan, ref.signal)
    if ref.features_per_activity != 1 or ref.batch >= len(signal.features):
        raise MonitoringError(f"signal `{ref.signal}` batch {ref.batch} is not one feature of the plan")
    return plan, signal, signal.features[ref.batch]


def _frames(signal: SignalPlan, feature: str) -> tuple[tuple[pl.LazyFrame, int], tuple[pl.LazyFrame, int]] | None:
    if signal.reference is None or signal.production is None:
        return None
    ref, prod = signal.reference.scan([feature]), signal.production.scan([feature])
    return None if ref is None or prod is None else (ref, prod)


def _summary(signal: SignalPlan, feature: str, budget_mb: float) -> FeatureSummary | None:
    """Phase 1, or None when the feature is computed whole."""
    if signal.error or signal.unsupported or not splittable(signal, signal_info(signal.type)):
        return None
    frames = _frames(signal, feature)
    if frames is None:
        return None
    (reference, _), (production, _) = frames
    present = (reference.collect_schema().names(), production.collect_schema().names())
    if any(feature not in names for names in present) or not is_numerical(signal, feature, reference):
        return None
    budget_rows = range_budget_rows(budget_mb)
    rows = signal_rows(signal.production, signal.reference)  # parquet footers; unknown: no sample here
    every = sample_every(rows, budget_rows) if rows else 0
    (ref, ref_sample), (prod, prod_sample) = ((stats[feature], sample.get(feature)) for stats, sample in
                                              (sampled_side_stats(frame, [feature], every=every)
                                               for frame in (reference, production)))
    if not needs_split(ref, prod):
        return None
    sample = None if ref_sample is None or prod_sample is None else np.concatenate((ref_sample, prod_sample))
    return summarize(reference, production, feature, ref, prod, budget_rows=budget_rows, sample=sample)


def summarize_step(ref: BatchRef, *, store: Store, budget_mb: float) -> FeatureRanges:
    """Phase 1 of the batch's feature; 0 ranges when it is computed whole (see the module). A data or
    definition error is left to ``compute_step``, which reports it as the signal's result."""
    plan, signal, feature = _feature(store, ref)
    try:
        summary = _summary(signal, feature, budget_mb)
    except transient_errors():
        raise
    except (MonitoringError, pl.exceptions.PolarsError, OSError) as exc:
        log.info("%s feature %s is computed whole: %s", ref.signal, feature, one_line(str(exc)))
        summary = None
    if summary is None:
        return FeatureRanges(batch=ref, ranges=0)
    write_json(store, f"{_folder(plan, ref)}/summary.json", summary.model_dump(mode="json"))
    return FeatureRanges(batch=ref, ranges=summary.ranges)


def _read(store: Store, path: str) -> bytes:
    data = store.read_bytes(path)
    if data is None:
        raise MonitoringError(f"{store.location(path)} is missing; the earlier value-range step writes it")
    return data


def _scanned(signal: SignalPlan, feature: str) -> tuple[tuple[pl.LazyFrame, int], tuple[pl.LazyFrame, int]]:
    frames = _frames(signal, feature)
    if frames is None:
        raise MonitoringError(f"signal `{signal.name}`: its windows can no longer be scanned by value range")
    return frames


def range_step(ref: RangeRef, *, store: Store) -> str:
    """Phase 2 of one range: its share, stored; returns where."""
    plan, signal, feature = _feature(store, ref.batch)
    folder = _folder(plan, ref.batch)
    summary = FeatureSummary.model_validate_json(_read(store, f"{folder}/summary.json"))
    (reference, _), (production, _) = _scanned(signal, feature)
    share = range_share(reference, production, summary, ref.index)
    path = f"{folder}/{ref.index}.json"
    store.write_bytes(path, share.model_dump_json().encode(), content_type="application/json")
    return path


def combine_step(ref: BatchRef, *, store: Store) -> BatchOutcome:
    """The feature's exact result from every range's share, stored as the batch's result."""
    plan, signal, feature = _feature(store, ref)
    folder = _folder(plan, ref)
    summary = FeatureSummary.model_validate_json(_read(store, f"{folder}/summary.json"))
    shares = [RangeShare.model_validate_json(_read(store, f"{folder}/{j}.json")) for j in range(summary.ranges)]
    (reference, ref_unparsed), (production, prod_unparsed) = _scanned(signal, feature)
    bins = profile_bins(reference, production, summary, shares) if signal_info(signal.type).profiled else None
    result = combine_shares(summary, shares, signal.thresholds.get("numerical", {}), significance_of(signal.options),
                            bins)
    unparsed = {side: n for side, n in (("production", prod_unparsed), ("reference", ref_unparsed)) if n}
    part = one_feature_result(signal, feature, result, rows=(summary.reference.rows, summary.production.rows),
                              unparsed=unparsed)
    path = part_path(plan, signal.name, ref.batch)
    store.write_bytes(path, part.model_dump_json().encode(), content_type="application/json")
    return BatchOutcome(signal=signal.name, batch=ref.batch, status=part.status, path=path,
                        features=len(part.features), breached=part.breached, error=part.error)


__all__ = ["FeatureRanges", "RangeRef", "combine_step", "range_step", "summarize_step"]
