r"""Exact numerical drift of a feature whose two windows do not fit in memory: split it by value range.

Three steps over lazy frames (the window's files, scanned; nothing is read whole):

**Phase 1** (``sampled_side_stats`` then ``summarize``; streaming aggregations): per side the rows, nulls
(null or NaN, as ``signals.drift``; and nulls alone, as ``signals.profile``), infinite and finite values,
the finite minimum, maximum, mean and sample standard deviation (ddof 1), and in the same pass an
every-``s``-th-value sample. Boundaries :math:`b_1 < \dots < b_{k-1}` come from quantiles of the sample of
both sides, so that each range's values of both sides together fit ``budget_rows``; then the exact count
of each side's finite values below every boundary (one more streaming pass). A range still over budget
is split again from a sample of its own values (a range of one repeated value cannot be split and is
read whole).

**Phase 2** (``range_share``, one per range: sequential locally, one activity each in Durable): read only
the finite values in :math:`[b_{j-1}, b_j)` of both sides (a filter polars pushes down to the parquet
row-group statistics), sort them, and return ``signals.ecdf_ranges.range_contribution`` given the counts
below from phase 1, the counts of its values in each global histogram bin, its number of distinct pooled
values, the values at the ranks the gate's NWD null and the profile read (``RankPlan``) that fall in it,
and the counts below the profile's quantile-bin edges that lie in it (so the profile needs no pass).

**Combine** (``combine_shares``): KS :math:`D = \max_j D_j`, :math:`W_1 = \sum_j W_j`, bin counts summed,
then the metrics, nulls and verdicts by the same functions ``signals.drift.numerical_drift`` uses.

Invariants:

- Ranges are half-open and cover the real line (the first has no lower bound, the last no upper), so
  every finite value, with every tie of it, is in exactly one range; a boundary that is a sample value
  puts that value's ties in the range above it. Hence the ranges hold consecutive blocks of each side's
  sorted values and of the pooled sorted values: range :math:`j` holds the ranks
  :math:`[c_j, c_j + n_j)` with :math:`c_j` its counts below, so a global rank is found in one range.
- The counts below are exact (a streaming count, not the sample); the ranges' own counts sum to each
  side's finite count (checked in ``combine_shares``: data changed between the phases fails the feature).
- The histogram edges are Sturges' equal-width edges over the pooled finite :math:`[m, M]` with the
  smaller side's finite count, known from phase 1 alone, so a value's bin does not depend on the range
  it was read with; counts add up over ranges.
- Distinct pooled values add up over ranges (a value lies in one range), which decides the NWD null's
  grid exactly as ``signals.nulls.nwd_null`` decides it on the whole pooled sample.
- The sample only places boundaries: a bad sample costs memory (a larger range), never exactness.
- Splitting needs more than ``KS_EXACT_MAX_N`` values on a side: below that the in-memory path computes
  scipy's exact KS p-value, which needs the samples themselves (``needs_split``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import polars as pl

from monitoring.data.range_models import FeatureSummary, RangeShare, RankPlan, SideStats
from monitoring.data.range_stats import (
    bins_from_below,
    edge_counts,
    edges_of,
    ks_pvalue,
    nwd_null_of,
    profile_edges,
    profile_of,
)
from signals import metrics as m
from signals.drift import Threshold, judged_metrics
from signals.ecdf_ranges import combine, range_contribution
from signals.info import Significance
from signals.nulls import NWD_CELLS, MomentNull, table_nulls
from signals.results import FeatureResult, Histogram

#: Refinements of ranges over budget before a range is accepted as it is.
_REFINE_ROUNDS = 4
NAMES = ("jensen_shannon_distance", "normalized_wasserstein_distance", "population_stability_index",
         "two_sample_kolmogorov_smirnov_test")


def _value(feature: str) -> pl.Expr:
    return pl.col(feature).cast(pl.Float64, strict=False)


def _finite(feature: str) -> pl.Expr:
    return _value(feature).filter(_value(feature).is_finite())


def side_stats(frame: pl.LazyFrame, features: Sequence[str]) -> dict[str, SideStats]:
    """Every feature's counts in one streaming pass; NaN counts as null, as ``signals.drift`` does."""
    return sampled_side_stats(frame, features, every=0)[0]


def sampled_side_stats(frame: pl.LazyFrame, features: Sequence[str], *, every: int
                       ) -> tuple[dict[str, SideStats], dict[str, np.ndarray]]:
    """``side_stats`` and, when ``every`` > 0, every ``every``-th finite value of each feature (unsorted):
    the first sample of ``summarize``, which then needs no pass of its own. The samples are lazy queries of
    their own collected with the counts (``pl.collect_all``: one scan of the shared frame, by polars'
    common-subplan elimination); inside the counts' aggregation the streaming engine would hold each
    whole column to gather from it. For a frame of one column (a Durable feature; at 100M rows a side,
    136 MiB against 94 for the counts alone, with a sample of 4M values, 32 MB): a frame of several
    columns would be cached whole to share its scan, so the local path samples in passes of its own."""
    exprs: list[pl.Expr] = [pl.len().alias("__rows")]
    for i, f in enumerate(features):
        v = _value(f)
        exprs += [v.is_null().sum().alias(f"m{i}"), v.is_nan().sum().alias(f"nan{i}"),
                  v.is_finite().sum().alias(f"f{i}"), _finite(f).min().alias(f"lo{i}"),
                  _finite(f).max().alias(f"hi{i}"), _finite(f).mean().alias(f"mu{i}"),
                  _finite(f).std(ddof=1).alias(f"s{i}")]
    samples = [frame.select(_value(f)).filter(_value(f).is_finite()).gather_every(every)
               for f in features] if every > 0 else []
    collected = pl.collect_all([frame.select(exprs), *samples], engine="streaming")
    row = collected[0].row(0, named=True)
    rows = int(row["__rows"])
    out = {}
    for i, f in enumerate(features):
        missing, finite = int(row[f"m{i}"] or 0), int(row[f"f{i}"] or 0)
        nulls = missing + int(row[f"nan{i}"] or 0)
        out[f] = SideStats(rows=rows, nulls=nulls, missing=missing, infinite=rows - nulls - finite, finite=finite,
                           minimum=row[f"lo{i}"], maximum=row[f"hi{i}"], mean=row[f"mu{i}"],
                           std=row[f"s{i}"] if finite > 1 else None)
    return out, {f: _values_of(c.to_series()) for f, c in zip(features, collected[1:], strict=True)} if every else {}


def _values_of(values: pl.Series) -> np.ndarray:
    return values.to_numpy().astype(np.float64, copy=False)


def sample_every(rows: int, budget_rows: int, features: int = 1) -> int:
    """The step of ``sampled_side_stats``' first sample for ``features`` split at once over ``rows`` rows
    (both sides; parquet metadata, an upper bound): about what ``summarize``'s own first sample takes
    (the budget's values, at least 64 per range), shared by the features so they fit the budget together."""
    pieces = math.ceil(rows / max(1, budget_rows // 2))
    return max(1, rows // max(budget_rows // max(features, 1), 64 * pieces, 1))


def needs_split(reference: SideStats, production: SideStats) -> bool:
    """Whether a feature that does not fit its budget whole (the callers' activity model) goes by value
    range: both sides have finite values and a side is large enough for the asymptotic KS p-value (see the
    module's invariants). Its values may fit one range (``summarize`` then gives one): a range costs
    ``RANGE_BYTES`` a value, less than the whole computation's rows, so one range can fit where the whole
    feature does not."""
    both = min(reference.finite, production.finite) > 0
    return both and max(reference.finite, production.finite) > m.KS_EXACT_MAX_N


def _in_range(feature: str, lo: float | None, hi: float | None) -> pl.Expr:
    v = _value(feature)
    condition = v.is_finite()
    if lo is not None:
        condition = condition & (v >= lo)
    if hi is not None:
        condition = condition & (v < hi)
    return condition


def _sample(frames: Iterable[pl.LazyFrame], feature: str, lo: float | None, hi: float | None, *,
            size: int, target: int) -> np.ndarray:
    """About ``target`` values of both sides in [lo, hi) (every s-th of the ``size`` there), sorted."""
    step = max(1, size // max(target, 1))
    parts = [f.select(_value(feature)).filter(_in_range(feature, lo, hi)).gather_every(step)
             .collect(engine="streaming").to_series().to_numpy() for f in frames]
    return np.sort(np.concatenate(parts))


def _cuts(sample: np.ndarray, pieces: int, lo: float | None) -> list[float]:
    """Sample values at ``pieces`` equal quantile steps, strictly above ``lo`` and the sample's minimum."""
    if pieces < 2 or len(sample) == 0:
        return []
    positions = (np.arange(1, pieces) * len(sample)) // pieces
    floor = sample[0] if lo is None else max(lo, sample[0])
    return sorted({float(x) for x in sample[positions] if x > floor})


def counts_below(frame: pl.LazyFrame, feature: str, boundaries: Sequence[float]) -> list[int]:
    """Exact count of the side's finite values below each boundary, in one streaming pass."""
    return counts_below_all(frame, {feature: boundaries})[feature]


def counts_below_all(frame: pl.LazyFrame, boundaries: Mapping[str, Sequence[float]]) -> dict[str, list[int]]:
    """``counts_below`` of several features' boundaries in one streaming pass (aggregations only)."""
    exprs = [(_value(f).is_finite() & (_value(f) < b)).sum().alias(f"b{i}_{k}")
             for i, (f, bs) in enumerate(boundaries.items()) for k, b in enumerate(bs)]
    row = frame.select(exprs).collect(engine="streaming").row(0, named=True) if exprs else {}
    return {f: [int(row[f"b{i}_{k}"]) for k in range(len(bs))] for i, (f, bs) in enumerate(boundaries.items())}


def _summary(feature: str, ref: SideStats, prod: SideStats, boundaries: list[float],
             below: list[tuple[int, int]]) -> FeatureSummary:
    lo = min(ref.minimum, prod.minimum)  # type: ignore[type-var]
    hi = max(ref.maximum, prod.maximum)  # type: ignore[type-var]
    edges = edges_of(lo, hi, ref.finite, prod.finite)  # type: ignore[arg-type]
    return FeatureSummary(feature=feature, reference=ref, production=prod, edges=edges.tolist(),
                          boundaries=boundaries, below=below, ranks=RankPlan.of(ref.finite, prod.finite))


def summarize(reference: pl.LazyFrame, production: pl.LazyFrame, feature: str, ref: SideStats,
              prod: SideStats, *, budget_rows: int, sample: np.ndarray | None = None) -> FeatureSummary:
    """Phase 1's boundaries and counts below for one feature whose side counts are known (``side_stats``).

    Both sides need finite values. Ranges aim at half the budget, so that a sample's error rarely
    pushes one over it; ranges still over budget are split again from a sample of their own values.
    ``sample``: both sides' first sample, taken with the counts (``sampled_side_stats``); without it the
    first round samples in a pass of its own.
    """
    samples = None if sample is None else {feature: sample}
    return summarize_all(reference, production, {feature: (ref, prod)}, budget_rows=budget_rows,
                         samples=samples)[feature]


def _new_cuts(frames: tuple[pl.LazyFrame, pl.LazyFrame], current: FeatureSummary, budget_rows: int,
              sample: np.ndarray | None) -> list[float]:
    """Boundaries that split the ranges of ``current`` over budget (``sample``: the first round's)."""
    added: list[float] = []
    for j, size in enumerate(current.sizes()):
        if size <= budget_rows:
            continue
        lo, hi = current.bounds(j)
        pieces = math.ceil(size / max(1, budget_rows // 2))
        values = (np.sort(sample) if sample is not None and not current.boundaries else
                  _sample(frames, current.feature, lo, hi, size=size, target=min(size, max(budget_rows, 64 * pieces))))
        added += _cuts(values, pieces, lo)
    return added


def summarize_all(reference: pl.LazyFrame, production: pl.LazyFrame, stats: Mapping[str, tuple[SideStats, SideStats]],
                  *, budget_rows: int, samples: Mapping[str, np.ndarray] | None = None) -> dict[str, FeatureSummary]:
    """``summarize`` of several features (``stats``: each one's side counts) over frames holding them all:
    each round's counts below of every feature still refined in one streaming pass per side."""
    frames = (reference, production)
    state: dict[str, tuple[list[float], list[tuple[int, int]]]] = {f: ([], [(0, 0)]) for f in stats}
    done: dict[str, FeatureSummary] = {}
    for _ in range(_REFINE_ROUNDS):
        refined: dict[str, list[float]] = {}
        for f, (boundaries, below) in state.items():
            current = _summary(f, *stats[f], boundaries, below)
            added = _new_cuts(frames, current, budget_rows, (samples or {}).get(f))
            if added:
                refined[f] = sorted(set(boundaries) | set(added))
            else:
                done[f] = current
        if not refined:
            break
        counts = [counts_below_all(frame, refined) for frame in frames]
        state = {f: (b, [(0, 0), *zip(counts[0][f], counts[1][f], strict=True)]) for f, b in refined.items()}
    for f, (boundaries, below) in state.items():
        done.setdefault(f, _summary(f, *stats[f], boundaries, below))
    return {f: done[f] for f in stats}


def read_range(frame: pl.LazyFrame, feature: str, lo: float | None, hi: float | None) -> np.ndarray:
    """One side's finite values in [lo, hi), sorted (by numpy, as ``signals.drift``, and several times
    faster than the lazy frame's sort), as float64; only those rows are materialised."""
    values = frame.select(_value(feature)).filter(_in_range(feature, lo, hi)).collect(engine="streaming")
    out = values.to_series().to_numpy()
    out = out.copy() if not out.flags.writeable else out
    out.sort()
    return out


def _at(values: np.ndarray, first: int, ranks: Sequence[int]) -> list[tuple[int, float]]:
    """(rank, value) for the global ``ranks`` inside a block of sorted values starting at rank ``first``."""
    return [(r, float(values[r - first])) for r in ranks if first <= r < first + len(values)]


def range_share(reference: pl.LazyFrame, production: pl.LazyFrame, summary: FeatureSummary, j: int) -> RangeShare:
    """Phase 2 of range ``j``: read, sort and compare both sides' values in it."""
    lo, hi = summary.bounds(j)
    ref, prod = read_range(reference, summary.feature, lo, hi), read_range(production, summary.feature, lo, hi)
    below_r, below_p = summary.below[j]
    part = range_contribution(ref, prod, below=(below_r, below_p),
                              totals=(summary.reference.finite, summary.production.finite), bounds=(lo, hi))
    pooled = np.sort(np.concatenate((ref, prod)), kind="stable")
    ends = np.flatnonzero(np.append(pooled[1:] != pooled[:-1], True)) if len(pooled) else np.array([], dtype=int)
    first = below_r + below_p
    groups = ([(float(pooled[e]), int(first + e)) for e in ends] if len(ends) <= 4 * NWD_CELLS else None)
    plan = summary.ranks
    points = {"pooled": _at(pooled, first, plan.pooled), "reference": _at(ref, below_r, plan.reference),
              "production": _at(prod, below_p, plan.production)}
    mean = summary.reference.mean or 0.0
    centred = ref - mean
    edges = np.asarray(summary.edges)
    return RangeShare(index=j, part=(part.max_gap, part.min_gap, part.integral, *part.counts),
                      reference_bins=m.bin_counts(ref, edges).tolist(),
                      production_bins=m.bin_counts(prod, edges).tolist(), distinct=len(ends), groups=groups,
                      points=points, moments=(float(np.sum(centred**2)), float(np.sum(centred**3))),
                      edge_counts=edge_counts(ref, prod, (below_r, below_p), summary.reference.finite))


def details_of(r: SideStats, p: SideStats) -> dict[str, object]:
    return {"null_counts": {"reference": r.nulls, "production": p.nulls},
            "infinite_counts": {"reference": r.infinite, "production": p.infinite}}


def combine_shares(summary: FeatureSummary, shares: Iterable[RangeShare], thresholds: Mapping[str, Threshold],
                   significance: Significance | None, bin_counts: tuple[list[int], list[int]] | None = None
                   ) -> FeatureResult:
    """The feature's drift from every range's share (any order), as ``numerical_drift`` computes it.

    ``bin_counts``: each side's counts on the profile's quantile bins (``profile_bins``); without them the
    profile is left out."""
    shares = sorted(shares, key=lambda s: s.index)
    if [s.index for s in shares] != list(range(summary.ranges)):
        raise ValueError(f"feature `{summary.feature}`: {len(shares)} range results for {summary.ranges} ranges")
    r, p = summary.reference, summary.production
    combined = combine(s.range_part() for s in shares)
    if combined.counts != (r.finite, p.finite):
        raise ValueError(f"feature `{summary.feature}`: the ranges hold {combined.counts} values, phase 1 counted "
                         f"{(r.finite, p.finite)}; the data changed between the phases")
    ref_bins = np.sum([s.reference_bins for s in shares], axis=0)
    prod_bins = np.sum([s.production_bins for s in shares], axis=0)
    scale = m.nwd_scale(r.std)
    values = {
        "jensen_shannon_distance": m.jensen_shannon_distance(ref_bins, prod_bins),
        "normalized_wasserstein_distance": combined.wasserstein / scale,
        "population_stability_index": m.population_stability_index(ref_bins, prod_bins),
        "two_sample_kolmogorov_smirnov_test": ks_pvalue(combined.ks_statistic, r.finite, p.finite),
    }
    details = details_of(r, p)
    nulls: dict[str, MomentNull] = {}
    if significance is not None:
        nulls = table_nulls(ref_bins, prod_bins, replicates=significance.replicates, seed=significance.seed)
        nulls["normalized_wasserstein_distance"] = nwd_null_of(
            summary.ranks, shares, r.finite, p.finite, scale=scale, replicates=significance.replicates,
            seed=significance.seed)
        details["nulls"] = {name: null.method for name, null in nulls.items()}
    details["binning"] = "equal_width"
    if bin_counts is not None:
        details["profile"] = profile_of(summary, shares, bin_counts)
    histogram = Histogram(kind="numerical", edges=summary.edges, reference=ref_bins.tolist(),
                          production=prod_bins.tolist())
    return FeatureResult(kind="numerical", row_counts={"reference": r.finite, "production": p.finite},
                         metrics=judged_metrics(values, thresholds, nulls, significance), histogram=histogram,
                         details=details)


def profile_bins(reference: pl.LazyFrame, production: pl.LazyFrame, summary: FeatureSummary,
                 shares: Sequence[RangeShare]) -> tuple[list[int], list[int]]:
    """Each side's counts on the profile's quantile bins, from the counts below each inner edge that the
    range holding it gave (``RangeShare.edge_counts``); the edges between two ranges' values (rare: the
    two ranks of a quantile on either side of a boundary) are counted by one streaming pass per side."""
    inner = profile_edges(summary, shares)
    known = {edge: (r, p) for s in shares for edge, r, p in s.edge_counts}
    rest = [e for e in inner if e not in known]
    if rest:
        counted = zip(counts_below(reference, summary.feature, rest), counts_below(production, summary.feature, rest),
                      strict=True)
        known |= dict(zip(rest, counted, strict=True))
    return (bins_from_below([known[e][0] for e in inner], summary.reference.finite),
            bins_from_below([known[e][1] for e in inner], summary.production.finite))


def split_numerical_drift(reference: pl.LazyFrame, production: pl.LazyFrame, summary: FeatureSummary, *,
                          thresholds: Mapping[str, Threshold], significance: Significance | None,
                          profiled: bool) -> FeatureResult:
    """Phase 2 and the combination in one process, one range at a time (the local path)."""
    shares = [range_share(reference, production, summary, j) for j in range(summary.ranges)]
    bins = profile_bins(reference, production, summary, shares) if profiled else None
    return combine_shares(summary, shares, thresholds, significance, bins)


__all__ = ["NAMES", "FeatureSummary", "RangeShare", "SideStats", "combine_shares", "counts_below", "details_of",
           "counts_below_all", "needs_split", "profile_bins", "range_share", "read_range", "sample_every",
           "sampled_side_stats", "side_stats", "split_numerical_drift", "summarize", "summarize_all"]
