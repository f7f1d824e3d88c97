r"""What a value-range feature needs besides the ECDF shares: the ranks phase 2 reports, and from them the
NWD null, the histogram edges, the KS p-value and the profile, as the in-memory functions compute them.

Every statistic here is the one of ``signals`` on the whole samples, computed from what the ranges report:

- ``edges_of`` calls ``signals.metrics.sturges_edges`` on zero-memory views (``np.broadcast_to``) of the
  samples' sizes and ends; ``ks_pvalue`` is ``signals.metrics.ks_asymptotic_pvalue`` of D and the sizes
  (split sides hold more than ``KS_EXACT_MAX_N`` values, where scipy's p-value reads nothing else).
- ``nwd_null_of`` is ``signals.nulls.nwd_null`` given the pooled sorted sample's values only at the
  positions it reads: every distinct value's last rank while there are at most ``4 NWD_CELLS`` of them,
  else the ranks of ``nwd_grid``; ``signals.nulls.nwd_null_at`` does the rest for both.
- ``profile_of`` is ``signals.profile.numerical_profile``: counts, mean and std from phase 1, quantiles by
  numpy's linear rule from the values at the two ranks around each, skewness from the centred sums of
  the ranges, and the quantile-bin counts from the counts below each inner edge: counted in phase 2 by
  the range the edge lies in (``edge_counts``), or, for an edge between two ranges' values, by one
  streaming count of those edges only.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from monitoring.data.range_models import (
    BIN_QUANTILES,
    DESCRIBED,
    FeatureSummary,
    RangeShare,
    RankPlan,
    virtual_index,
)
from signals import metrics as m
from signals.nulls import NWD_CELLS, MomentNull, nwd_null_at


def edges_of(lo: float, hi: float, n_r: int, n_p: int) -> np.ndarray:
    """``sturges_edges`` of samples of sizes ``n_r``, ``n_p`` whose pooled range is [lo, hi]."""
    return m.sturges_edges(np.broadcast_to(np.float64(lo), (n_r,)), np.broadcast_to(np.float64(hi), (n_p,)))


def ks_pvalue(d: float, n_r: int, n_p: int) -> float:
    """``ks_two_sample_pvalue`` of samples of sizes ``n_r``, ``n_p`` (one above ``KS_EXACT_MAX_N``) with KS D ``d``."""
    if max(n_r, n_p) <= m.KS_EXACT_MAX_N:
        raise ValueError(f"the exact KS p-value needs the samples ({n_r}, {n_p} values); it is not split")
    return m.ks_asymptotic_pvalue(d, n_r, n_p)


def _points(shares: Sequence[RangeShare], side: str) -> dict[int, float]:
    return {rank: value for s in shares for rank, value in s.points[side]}


def _pooled_positions(plan: RankPlan, shares: Sequence[RangeShare], n: int) -> tuple[np.ndarray, np.ndarray,
                                                                                      np.ndarray]:
    """(positions, pooled values there, the cells' middle u) as ``nwd_null`` picks them."""
    if sum(s.distinct for s in shares) <= 4 * NWD_CELLS:
        groups = [g for s in shares for g in (s.groups or [])]
        pos = np.array([rank for _, rank in groups], dtype=np.int64)
        values = np.array([value for value, _ in groups])
        return pos, values, (pos[:-1] + 1) / n
    at = _points(shares, "pooled")
    pos = np.asarray(plan.pooled, dtype=np.int64)
    return pos, np.array([at[int(p)] for p in pos]), ((pos[:-1] + 1 + pos[1:]) / 2) / n


def nwd_null_of(plan: RankPlan, shares: Sequence[RangeShare], n_r: int, n_p: int, *, scale: float,
                replicates: int, seed: int) -> MomentNull:
    """``signals.nulls.nwd_null`` of the pooled sample the ``shares`` cover (see the module): its values at
    the positions ``nwd_null`` uses, given to ``nwd_null_at``."""
    n = n_r + n_p
    if n < 2:
        return MomentNull("brownian_bridge", 0.0, 0.0, 0.0)
    pos, values, mid_u = _pooled_positions(plan, shares, n)
    discrete = sum(s.distinct for s in shares) <= 4 * NWD_CELLS
    return nwd_null_at(pos, values, mid_u, n_r, n_p, discrete=discrete, scale=scale, replicates=replicates,
                       seed=seed)


def _quantile(at: dict[int, float], n: int, q: float) -> float:
    """numpy's linear quantile (its ``_lerp``) from the values at the two ranks around it."""
    virtual = virtual_index(n, q)
    below = min(max(math.floor(virtual), 0), n - 1)
    a, b = at[below], at[min(below + 1, n - 1)]
    t = virtual - below if below < n - 1 else 0.0
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def profile_edges(summary: FeatureSummary, shares: Sequence[RangeShare]) -> list[float]:
    """The inner edges of the profile's quantile bins (the reference's quantiles, ties merged)."""
    at, n = _points(shares, "reference"), summary.reference.finite
    return np.unique([_quantile(at, n, q) for q in BIN_QUANTILES]).tolist()


def edge_counts(ref: np.ndarray, prod: np.ndarray, below: tuple[int, int], n_r: int) -> list[tuple[float, int, int]]:
    """Phase 2's counts below the profile's quantile-bin edges that lie inside one range: ``ref`` and
    ``prod`` its sorted values, ``below`` the counts below it, ``n_r`` the reference's finite count.

    An edge is numpy's linear interpolation between the reference's values at two consecutive ranks; when
    both ranks are in this range the edge is in [its first, its last value], inside the range, so every
    value of either side below the edge is either below the range (``below``) or in it (a binary search).
    An edge between two ranges' values is left to ``profile_bins``' streaming count."""
    out = []
    for q in BIN_QUANTILES:
        lower = min(max(math.floor(virtual_index(n_r, q)), 0), n_r - 1)
        upper = min(lower + 1, n_r - 1)
        if below[0] <= lower and upper < below[0] + len(ref):
            edge = _quantile({lower: float(ref[lower - below[0]]), upper: float(ref[upper - below[0]])}, n_r, q)
            out.append((edge, below[0] + int(np.searchsorted(ref, edge, side="left")),
                        below[1] + int(np.searchsorted(prod, edge, side="left"))))
    return out


def bins_from_below(below: Sequence[int], total: int) -> list[int]:
    """Counts of the bins between inner edges from the counts of values below each edge."""
    ends = [0, *below, total]
    return [b - a for a, b in itertools.pairwise(ends)]


def _described(summary: FeatureSummary, shares: Sequence[RangeShare], side: str) -> dict[str, float | None]:
    stats = summary.reference if side == "reference" else summary.production
    at, n = _points(shares, side), stats.finite
    p5, p50, p95 = (_quantile(at, n, q) for q in DESCRIBED)
    return {"mean": stats.mean, "std": stats.std, "min": stats.minimum, "p5": p5, "p50": p50, "p95": p95,
            "max": stats.maximum}


def _skewness(summary: FeatureSummary, shares: Sequence[RangeShare]) -> float | None:
    r = summary.reference
    if r.finite <= 2 or r.minimum == r.maximum:
        return 0.0
    m2 = sum(s.moments[0] for s in shares) / r.finite
    m3 = sum(s.moments[1] for s in shares) / r.finite
    skew = m3 / m2**1.5 if m2 > (np.finfo(float).eps * (r.mean or 0.0)) ** 2 else math.nan
    return skew if math.isfinite(skew) else None


def profile_of(summary: FeatureSummary, shares: Sequence[RangeShare], bins: tuple[list[int], list[int]]
               ) -> dict[str, Any]:
    """``signals.profile.numerical_profile`` of the feature; ``bins``: each side's quantile-bin counts."""
    r, p = summary.reference, summary.production
    described = {side: _described(summary, shares, side) for side in ("reference", "production")}
    out: dict[str, Any] = {"kind": "numerical", "count": {"reference": r.finite, "production": p.finite},
                           "nulls": {"reference": r.missing, "production": p.missing}}
    for stat in ("mean", "std", "min", "p5", "p50", "p95", "max"):
        out[stat] = {side: described[side][stat] for side in ("reference", "production")}
    out["skewness"] = _skewness(summary, shares)
    out["quantile_bins"] = {"inner_edges": profile_edges(summary, shares), "reference": bins[0],
                            "production": bins[1]}
    return out


__all__ = ["bins_from_below", "edge_counts", "edges_of", "ks_pvalue", "nwd_null_of", "profile_edges", "profile_of"]
