r"""Is a data quality rate of production significantly above the reference's rate plus a margin?

A quality rate is a count :math:`x` out of :math:`n` rows. The reference's rate is *estimated* as a rate
of new rows, not read off the reference's own rows, where the two differ:

* nulls and type errors: the reference proportion :math:`x_r / n_r`;
* out of bounds, numerical: a reference value is never outside its own range, yet a new value from the
  same continuous law falls outside the range of :math:`n_r` values with probability
  :math:`2 / (n_r + 1)`. We use the leave-one-out count instead, which also holds for tied values: a
  reference value is outside the range of the others exactly when it is the unique minimum or the unique
  maximum, so :math:`\hat x_r` = (reference infinities) + [unique min] + [unique max], about 2;
* out of bounds, categorical: the leave-one-out count of values unseen among the others is the number
  of categories seen once, Good's (1953) estimate of the unseen mass, doi:10.1093/biomet/40.3-4.237.

With margin :math:`\delta` (the configured threshold), the null is :math:`r_p \le r_r + \delta` and the
test is one-sided:

* :math:`\delta = 0`: Fisher's exact test of the 2 x 2 table
  :math:`[[x_p, n_p - x_p], [\hat x_r, n_r - \hat x_r]]`, ``alternative="greater"``, which accounts for
  the reference's own sampling error (one out-of-bounds row in 2 million against an estimated 2 in the
  reference is p = 0.9, not an alert);
* :math:`\delta > 0`: the exact binomial test of :math:`x_p` out of :math:`n_p` against
  :math:`p_0 = \min(1, \hat x_r / n_r + \delta)` (``scipy.stats.binomtest``); the reference's sampling
  error is then ignored, which is fair when it is small next to :math:`\delta`.
"""

from __future__ import annotations


def rate_pvalue(x_p: int, n_p: int, x_r: float, n_r: int, *, delta: float = 0.0) -> float:
    """One-sided p-value of "production's rate exceeds the reference's plus ``delta``" (see module)."""
    from scipy import stats
    if n_p == 0 or n_r == 0:
        return 1.0
    if delta <= 0:
        x_ref = min(round(x_r), n_r)
        return float(stats.fisher_exact([[x_p, n_p - x_p], [x_ref, n_r - x_ref]], alternative="greater").pvalue)
    p0 = min(1.0, x_r / n_r + delta)
    if p0 >= 1.0:
        return 1.0
    return float(stats.binomtest(x_p, n_p, p0, alternative="greater").pvalue)


def unique_extremes(n: int, lo_count: int, hi_count: int) -> int:
    """Leave-one-out out-of-bounds count of ``n`` finite reference values whose minimum occurs
    ``lo_count`` times and maximum ``hi_count`` times: the unique extremes (a single value counts 1).

    >>> unique_extremes(100, 1, 1), unique_extremes(100, 3, 1), unique_extremes(5, 5, 5), unique_extremes(1, 1, 1)
    (2, 1, 0, 1)
    """
    if n <= 1:
        return n
    return int(lo_count == 1) + int(hi_count == 1)


__all__ = ["rate_pvalue", "unique_extremes"]
