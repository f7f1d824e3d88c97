"""The messages of value-range drift (``monitoring.data.ranges``): each side's phase 1 counts, a feature's
summary with the ranks phase 2 reports values at, and one range's share. All round-trip through JSON, so
Durable activities pass them through the results store."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from signals.ecdf_ranges import RangePart
from signals.nulls import nwd_grid
from signals.profile import QUANTILE_BINS

#: The profile's quantiles of each side, then the reference's quantile-bin edges.
DESCRIBED = (0.05, 0.5, 0.95)
BIN_QUANTILES = tuple(float(q) for q in np.linspace(0, 1, QUANTILE_BINS + 1)[1:-1])


def virtual_index(n: int, q: float) -> float:
    """numpy's virtual index of quantile ``q`` of ``n`` values (method 'linear': ``(n - 1) q``)."""
    return (n - 1) * q


def _around(n: int, qs: Sequence[float]) -> list[int]:
    out: set[int] = set()
    for q in qs:
        below = min(max(math.floor(virtual_index(n, q)), 0), n - 1)
        out |= {below, min(below + 1, n - 1)}
    return sorted(out)


class RankPlan(BaseModel):
    """The global ranks phase 2 reports values at: the pooled ranks of the NWD grid, each side's ranks
    around the profile's quantiles (the reference's also around its quantile-bin edges)."""

    model_config = ConfigDict(frozen=True)

    pooled: list[int]
    reference: list[int]
    production: list[int]

    @classmethod
    def of(cls, n_r: int, n_p: int) -> RankPlan:
        n = n_r + n_p
        return cls(pooled=nwd_grid(n).tolist() if n >= 2 else [],
                   reference=_around(n_r, (*DESCRIBED, *BIN_QUANTILES)), production=_around(n_p, DESCRIBED))


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class SideStats(_Frozen):
    """One side's counts of one feature; ``minimum``/``maximum``/``mean`` are None without finite values.

    ``nulls`` counts null or NaN (drift's rule); ``missing`` counts null alone (the profile's)."""

    rows: int
    nulls: int
    missing: int
    infinite: int
    finite: int
    minimum: float | None
    maximum: float | None
    mean: float | None
    std: float | None


class FeatureSummary(_Frozen):
    """Phase 1 of one feature: both sides' counts, the histogram edges, the range boundaries, the counts
    of each side's finite values below each range (``below[j]``; ``below[0]`` is (0, 0)) and the ranks
    phase 2 reports values at."""

    feature: str
    reference: SideStats
    production: SideStats
    edges: list[float]
    boundaries: list[float]
    below: list[tuple[int, int]]
    ranks: RankPlan

    @property
    def ranges(self) -> int:
        return len(self.boundaries) + 1

    def bounds(self, j: int) -> tuple[float | None, float | None]:
        """Range ``j``'s [lo, hi); None for an unbounded end."""
        edges: list[float | None] = [None, *self.boundaries, None]
        return edges[j], edges[j + 1]

    def sizes(self) -> list[int]:
        """Values of both sides in each range, from the exact counts below."""
        ends = [*self.below, (self.reference.finite, self.production.finite)]
        return [(b[0] - a[0]) + (b[1] - a[1]) for a, b in itertools.pairwise(ends)]


class RangeShare(_Frozen):
    """Phase 2 of one range: its share of the ECDF comparison, its values' counts in each global bin, its
    distinct pooled values (with their last pooled rank while few) and its values at the planned ranks."""

    index: int
    part: tuple[float, float, float, int, int]
    reference_bins: list[int]
    production_bins: list[int]
    distinct: int
    groups: list[tuple[float, int]] | None
    points: dict[str, list[tuple[int, float]]]
    moments: tuple[float, float]
    #: (edge, reference count below it, production count below it) for each of the profile's quantile-bin
    #: edges whose two reference ranks are both in this range, so the edge lies inside it (see
    #: ``monitoring.data.range_stats.edge_counts``); the other edges are counted by one streaming pass.
    edge_counts: list[tuple[float, int, int]] = []

    def range_part(self) -> RangePart:
        max_gap, min_gap, integral, n_r, n_p = self.part
        return RangePart(max_gap, min_gap, integral, (n_r, n_p))



__all__ = ["BIN_QUANTILES", "DESCRIBED", "FeatureSummary", "RangeShare", "RankPlan", "SideStats", "virtual_index"]
