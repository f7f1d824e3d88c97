r"""Exact two-sample KS and Wasserstein distances from value ranges computed one at a time.

When both samples of a feature do not fit in memory together, split the real line at boundaries
:math:`-\infty = b_0 < b_1 < \dots < b_k = +\infty` into half-open ranges :math:`[b_{j-1}, b_j)`. Each
range is computed from only the values inside it, sorted, plus the counts of each sample's values
below it (:math:`c^r_j`, :math:`c^p_j`), and the partial results combine exactly:

.. math::

    D = \sup_x |F_r(x) - F_p(x)| = \max_j D_j, \qquad
    W_1 = \int |F_r(x) - F_p(x)|\,dx = \sum_j \int_{b_{j-1}}^{b_j} |F_r(x) - F_p(x)|\,dx

where, inside range :math:`j`, :math:`F_r(x) = (c^r_j + \#\{r_i \in [b_{j-1}, x]\}) / n_r` and likewise
for the production sample.

Invariants that make the combination exact:

- Ranges are half-open, so each value, and every tie of it, lies in exactly one range; the ECDFs are
  step functions whose steps are at sample values, so the supremum over a range is attained at one of
  its values, or equals the level at its left boundary, which is the level after the previous range's
  last value.
- Between two consecutive values of the merged sample the gap :math:`F_r - F_p` is constant; from a
  range's left boundary to its first value it is the level given by the counts below; from its last
  value to its right boundary it is the level after that value. The first range starts at the first
  value (both CDFs are 0 before it) and the last range ends at the last value (both are 1 after it).
- The counts below range :math:`j` are the sums of the counts inside ranges :math:`< j`, so they can
  come from the ranges themselves, in order, or from one streaming count per boundary.

Ramdas, Garcia Trillos and Cuturi (2017), On Wasserstein two-sample testing, doi:10.3390/e19020047.

>>> import numpy as np
>>> r, p = np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.5, 1.0, 2.5])
>>> parts = [range_contribution(r[r < 1.5], p[p < 1.5], below=(0, 0), totals=(4, 3), bounds=(None, 1.5)),
...          range_contribution(r[r >= 1.5], p[p >= 1.5], below=(2, 2), totals=(4, 3), bounds=(1.5, None))]
>>> combined = combine(parts)
>>> from scipy import stats
>>> bool(np.isclose(combined.wasserstein, stats.wasserstein_distance(r, p)))
True
>>> bool(np.isclose(combined.ks_statistic, stats.ks_2samp(r, p).statistic))
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RangePart:
    """One range's share of the two-sample ECDF comparison.

    ``max_gap`` and ``min_gap``: the largest and smallest :math:`F_r - F_p` at the range's values (0 for
    an empty range); ``integral``: :math:`\\int |F_r - F_p|` over the range; ``counts``: values of each
    sample inside the range.
    """

    max_gap: float
    min_gap: float
    integral: float
    counts: tuple[int, int]


@dataclass(frozen=True)
class Combined:
    """The whole-sample statistics from every range."""

    ks_statistic: float
    wasserstein: float
    counts: tuple[int, int]


def range_contribution(reference: np.ndarray, production: np.ndarray, *, below: tuple[int, int],
                       totals: tuple[int, int], bounds: tuple[float | None, float | None]) -> RangePart:
    """The share of one range :math:`[lo, hi)` from the sorted values of both samples inside it.

    Parameters
    ----------
    reference, production
        The sorted finite values of each sample that lie in the range.
    below
        How many values of each sample lie below the range (:math:`c^r`, :math:`c^p`).
    totals
        Each sample's whole size (:math:`n_r`, :math:`n_p`), both at least 1.
    bounds
        (lo, hi); None for the unbounded ends (the first range starts at its first value, the last ends
        at its last value, where both CDFs are 0 and 1).
    """
    n_r, n_p = totals
    c_r, c_p = below
    lo, hi = bounds
    start_level = c_r / n_r - c_p / n_p
    if len(reference) == 0 and len(production) == 0:
        span = (hi - lo) if lo is not None and hi is not None else 0.0
        return RangePart(start_level, start_level, abs(start_level) * span, (0, 0))
    both = np.concatenate((reference, production))
    order = np.argsort(both, kind="stable")
    merged = both[order]
    seen_r = c_r + np.cumsum(order < len(reference))
    seen_p = c_p + np.arange(1, len(both) + 1) - (seen_r - c_r)
    diffs = seen_r / n_r - seen_p / n_p
    group_ends = np.append(merged[1:] != merged[:-1], True)
    at_values = diffs[group_ends]
    integral = float(np.sum(np.abs(diffs[:-1]) * np.diff(merged)))
    if lo is not None:
        integral += abs(start_level) * float(merged[0] - lo)
    if hi is not None:
        integral += abs(float(diffs[-1])) * float(hi - merged[-1])
    return RangePart(float(np.max(at_values)), float(np.min(at_values)), integral,
                     (len(reference), len(production)))


def combine(parts: Iterable[RangePart]) -> Combined:
    """KS D and :math:`W_1` of the whole samples from the parts of all their ranges (any order)."""
    parts = list(parts)
    if not parts:
        return Combined(0.0, 0.0, (0, 0))
    d = max(max(p.max_gap for p in parts), -min(p.min_gap for p in parts), 0.0)
    counts = (sum(p.counts[0] for p in parts), sum(p.counts[1] for p in parts))
    return Combined(float(min(d, 1.0)), float(sum(p.integral for p in parts)), counts)


__all__ = ["Combined", "RangePart", "combine", "range_contribution"]
