r"""Null distributions of the drift distances under "no change", at the current sample sizes.

Each null is a :class:`MomentNull`: the metric :math:`v` raised to a power :math:`a` follows Pearson's
type III law (a shifted gamma) with mean :math:`\mu`, standard deviation :math:`\sigma` and skewness
:math:`\gamma`,

.. math:: v^a \sim \ell + \Gamma(k, \theta), \quad k = 4 / \gamma^2, \quad \theta = \sigma\gamma / 2, \quad
          \ell = \mu - k\theta

(``scipy.stats.pearson3``). A scaled chi-squared :math:`c\,\chi^2_\nu` is exactly this law with
:math:`\mu = c\nu`, :math:`\sigma = c\sqrt{2\nu}`, :math:`\gamma = \sqrt{8/\nu}`, :math:`\ell = 0` (the closed
forms below). A resampled null is fitted to its replicates by these three moments, so that p-values far
below ``1 / replicates``, which Holm's correction needs across tens of features, come from a smooth tail
instead of a count of zero exceedances. Two moments (a gamma, Satterthwaite 1946, doi:10.2307/3002019)
are not enough: the NWD null is more skewed than a gamma of its mean and variance, whose 99th percentile
falls 6% short, while the three-moment fit is within 1% at the 99th and 99.9th percentiles
(50,000 replicates of the normal and lognormal nulls).

Let :math:`n_r, n_p` be the two sample sizes, :math:`n_e = n_r n_p / (n_r + n_p)` and :math:`k` the number
of non-empty cells (bins or categories) of the pooled table.

* **Jensen-Shannon distance and PSI, table not sparse** (every expected count of the smaller sample at
  least 5, Cochran's rule): both are divergences of the two frequency vectors, whose second-order
  expansion around the common distribution :math:`\pi` is Pearson's statistic,
  :math:`JS^2 \approx \frac{1}{8 \ln 2} \sum_i \frac{(p_i - q_i)^2}{\pi_i}` (bits) and
  :math:`PSI \approx \sum_i \frac{(p_i - q_i)^2}{\pi_i}`, while :math:`n_e \sum_i (p_i - q_i)^2 / \pi_i
  \to \chi^2_{k-1}`. Hence :math:`8 \ln 2\, n_e\, JS^2 \sim \chi^2_{k-1}` and
  :math:`n_e\, PSI \sim \chi^2_{k-1}` (Cressie & Read 1984, doi:10.1111/j.2517-6161.1984.tb01318.x;
  the Laplace pseudo-count of PSI only shrinks it, so the PSI p-value is conservative).
* **Jensen-Shannon distance and PSI, sparse table**: the permutation null. Under "no change" the
  assignment of the pooled rows to the two windows is exchangeable, so the production counts are a
  multivariate hypergeometric draw from the pooled counts; ``replicates`` such tables give replicates of
  both metrics, fitted as above (:math:`a = 2` for JS, whose square is the chi-squared-like quantity).
  The tables are drawn sequentially (Besag & Clifford 1991, doi:10.1093/biomet/78.2.301): the first
  :math:`R_1 = R/10` (at least 100) of the :math:`R` replicates, and the other :math:`R - R_1` only when
  the p-value :math:`P_1` of JS or PSI from the first ones is at most 0.1. The stopped p-value is still
  valid: it is never below the Monte Carlo one of the first stage, :math:`(b_1 + 1) / (R_1 + 1)`, itself a
  valid p-value, and for any level :math:`a`, rejecting needs either a stop with that p-value at most
  :math:`a` or no stop, which implies :math:`P_1 \le 0.1`; below 0.1 only the full draw rejects, as it
  would without stopping; at or above 0.1 both events lie in :math:`\{(b_1 + 1)/(R_1 + 1) \le a\}`, of
  probability at most :math:`a`. A feature without change stops after :math:`R_1` tables in about 87% of
  cases (1500 null splits of a sparse table: either metric at most 0.1 goes on), at a tenth of the cost
  (4.0 to 0.5 ms at 10,000 + 10,000 normal rows in 16 Sturges bins); its stored null quantile then comes
  from :math:`R_1` replicates.
* **Normalized Wasserstein distance**: the asymptotic null. Under "no change",
  :math:`\sqrt{n_e}\,(F_r - F_p) \Rightarrow B \circ F` for a Brownian bridge :math:`B`, so
  :math:`\sqrt{n_e}\,W_1 \Rightarrow \int |B(F(x))|\,dx = \int_0^1 |B(u)|\,dQ(u)`
  (del Barrio, Giné & Matrán 1999, doi:10.1214/aop/1022677394). The law depends on :math:`F`; we take
  :math:`F` as the pooled empirical CDF and simulate the integral over a grid of pooled order statistics
  (uniform in :math:`u` with geometrically refined tails, so that the extremes of heavy-tailed data weigh
  with the small :math:`|B|` they have there), then divide by the reference's std as NWD does. That grid
  depends on the pooled size alone, so its bridges are drawn once per size (2000, cached); only the
  quantile gaps are the data's. A smaller window of at most 200 rows (and 5% of the pooled rows) uses
  the finite-sample permutation law of the same sum instead; discrete data (at most 1024 distinct
  values) the exact sum over the distinct values.

Every draw that depends on the data is seeded by ``seed`` mixed with a digest of label-free summaries
of the pooled data (:func:`seeded`): the same windows give the same p-values, while different tables
get independent Monte Carlo errors instead of one frozen error shared by every alike table.
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass

import numpy as np

from signals.metrics import jensen_shannon_rows, population_stability_rows

#: Cochran's rule: a table is sparse when an expected count of the smaller sample is below this.
MIN_EXPECTED = 5.0
#: Uniform cells of the NWD grid, before the refined tails are added.
NWD_CELLS = 256
#: NWD's finite-sample permutation null is drawn while it needs at most this many row draws (200 rows at
#: 1000 replicates); above, the Brownian-bridge limit, which is then accurate and cheaper.
NWD_PERMUTATION_MAX = 200_000
#: Brownian bridges of the NWD null on the grid of continuous data: drawn once per pooled size (cached).
NWD_BRIDGES = 2000


#: Beyond the largest replicate a fitted null's tail p-value is multiplied by this (``MomentNull.pvalue``).
TAIL_SAFETY = 2.0


@dataclass(frozen=True)
class MomentNull:
    r"""A null law of a metric :math:`v`: :math:`v^a` is Pearson type III with the stated three moments.

    ``sd == 0`` is a point mass at ``mean`` (e.g. one bin: the distance is always 0); fitted to
    replicates that all came out equal, a value above it still gets the Monte Carlo floor
    :math:`1 / (R + 1)`, not 0: the draws saw no such value, which does not make it impossible.
    """

    method: str
    mean: float
    sd: float
    skew: float
    power: float = 1.0
    replicates: tuple[float, ...] = ()

    @classmethod
    def scaled_chi2(cls, dof: int, scale: float, *, power: float, method: str) -> MomentNull:
        r""":math:`v^a \sim c\,\chi^2_\nu` with :math:`c` = ``scale`` and :math:`\nu` = ``dof`` (exactly)."""
        return cls(method, scale * dof, scale * math.sqrt(2 * dof), math.sqrt(8 / dof), power)

    @classmethod
    def fit(cls, replicates: np.ndarray, *, power: float, method: str) -> MomentNull:
        """Mean, standard deviation and skewness of ``replicates ** power``."""
        t = np.sort(np.asarray(replicates, dtype=float) ** power)
        mean = float(t.mean())
        centred = t - mean
        m2 = float(centred @ centred) / len(t)
        sd = math.sqrt(m2 * len(t) / (len(t) - 1)) if len(t) > 1 else 0.0
        if sd <= 1e-12 * abs(mean):  # replicates all equal up to rounding: a point mass
            return cls(method, mean, 0.0, 0.0, power, (mean,) * len(t))
        skew = float((centred * centred) @ centred) / len(t) / m2**1.5
        return cls(method, mean, sd, skew, power, tuple(t.tolist()))


    def pvalue(self, value: float) -> float:
        r""":math:`P(V \ge v)` under the null.

        For a fitted null, while :math:`b \ge 1` of the :math:`R` replicates reach the value, the p-value
        is at least the Monte Carlo one, :math:`(b + 1) / (R + 1)` (a valid p-value for a permutation
        null, Phipson & Smyth 2010, doi:10.2202/1544-6115.1585); the fitted tail is used alone only beyond
        the largest replicate, where counting cannot resolve p, and there it is multiplied by
        ``TAIL_SAFETY``: ``bench/null_tail.py`` measured the exact permutation tail at the fitted
        :math:`1 - 0.01/30` quantile of sparse tables at 0.75-1.54 times its nominal level, so a bare fit
        would let Holm's "any false alarm in at most alpha of runs" slip by up to half. Doubled, the tail
        starts near :math:`2 / (R + 1)`, the Monte Carlo p-value of one reaching replicate.
        """
        t = max(value, 0.0) ** self.power
        if self.sd <= 0:
            if t <= self.mean * (1 + 1e-9) + 1e-300:
                return 1.0
            return 1 / (len(self.replicates) + 1) if self.replicates else 0.0
        p = _pearson3_sf((t - self.mean) / self.sd, self.skew)
        if self.replicates:
            reached = len(self.replicates) - int(np.searchsorted(self.replicates, t * (1 - 1e-12), side="left"))
            p = max(p, (reached + 1) / (len(self.replicates) + 1)) if reached else min(1.0, TAIL_SAFETY * p)
        return p

    def quantile(self, q: float) -> float:
        """The ``q`` quantile of the metric (not of its power) under the null."""
        t = self.mean if self.sd <= 0 else self.mean + self.sd * _pearson3_ppf(q, self.skew)
        return max(t, 0.0) ** (1 / self.power)


#: Below this absolute skewness Pearson III is the normal law (scipy's ``pearson3`` switches there too).
NORMAL_SKEW = 1.6e-5


def _pearson3_sf(z: float, skew: float) -> float:
    r"""Survival function of the standardised Pearson III law at :math:`z`, as ``scipy.stats.pearson3.sf``
    but from ``scipy.special`` directly: :math:`y = k + 2z/\gamma`, :math:`k = 4/\gamma^2`, is
    :math:`\Gamma(k, 1)` (mirrored when :math:`\gamma < 0`). The frozen and generic ``scipy.stats`` calls
    cost 0.1-0.4 ms each, most of a closed-form null's time."""
    from scipy import special
    if abs(skew) < NORMAL_SKEW:
        return float(special.ndtr(-z))
    k = 4 / skew**2
    y = k + 2 * z / skew
    if skew > 0:
        return 1.0 if y <= 0 else float(special.gammaincc(k, y))
    return 0.0 if y <= 0 else float(special.gammainc(k, y))


def _pearson3_ppf(q: float, skew: float) -> float:
    """Quantile of the standardised Pearson III law (the inverse of ``_pearson3_sf``'s complement)."""
    from scipy import special
    if abs(skew) < NORMAL_SKEW:
        return float(special.ndtri(q))
    k = 4 / skew**2
    y = special.gammaincinv(k, q if skew > 0 else 1 - q)
    return float((y - k) * skew / 2)


def seeded(seed: int, *keys: np.ndarray) -> np.random.Generator:
    """A generator seeded by ``seed`` and a BLAKE2b digest of ``keys``, label-free summaries of the pooled data.

    The same windows always give the same draws (and p-values), yet different pooled samples get
    independent draws. With one fixed seed for all, every feature and every run whose pooled law is
    alike (e.g. Poisson counts) reuses the same 1000 draws, so their Monte Carlo error does not average
    out: it is one frozen bias (at a 100,000 / 50 Poisson split, the 99th percentile 4% low and 2.2%
    false alarms at alpha 0.01). The keys hold no labels, so the draws are independent of which pooled
    rows came from which window, as a permutation test needs. Values equal as numbers hash equal
    (``-0.0`` is ``0.0``): numpy's sorts order the two zeros by chance, so their bytes must not count.
    """
    digest = hashlib.blake2b(digest_size=16)
    for key in keys:
        key = np.ascontiguousarray(key)
        if key.dtype.kind == "f":  # -0.0 and 0.0 are one value, whichever of them a sort put last
            key = key + 0.0
        digest.update(key.tobytes())
    return np.random.default_rng([seed, int.from_bytes(digest.digest(), "little")])


def effective_size(n_r: int, n_p: int) -> float:
    r""":math:`n_e = n_r n_p / (n_r + n_p)`, the size that scales two-sample statistics."""
    return n_r * n_p / (n_r + n_p)


#: Rows drawn one by one (with replacement) while the smaller window is at most this share of the pooled rows.
ROW_DRAW_SHARE = 0.05
#: ... and the draws for all replicates at most this many.
ROW_DRAW_MAX = 5_000_000


def permuted_counts(pooled: np.ndarray, n_draw: int, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """``replicates`` rows of the counts of ``n_draw`` rows drawn without replacement from ``pooled``.

    The permutation law (multivariate hypergeometric) of one window's counts given the pooled table,
    drawn cell by cell by numpy. When the smaller window holds at most ``ROW_DRAW_SHARE`` of the pooled rows
    its rows are drawn all at once, with replacement (a multinomial of the pooled proportions): the
    variance is then too large by at most the finite-population factor ``N / (N - n) <= 1.053``, a
    slightly conservative null, at a fraction of the cost for many categories. The other window gets the
    rest of the pooled counts (never below 0).
    """
    pooled = np.asarray(pooled, dtype=np.int64)
    total = int(pooled.sum())
    small = min(n_draw, total - n_draw)
    if small <= ROW_DRAW_SHARE * total and small * replicates <= ROW_DRAW_MAX:
        draws = rng.integers(0, total, size=(replicates, small))
        picked = np.searchsorted(np.cumsum(pooled), draws, side="right")
        flat = picked + len(pooled) * np.arange(replicates)[:, None]
        rows = np.bincount(flat.ravel(), minlength=replicates * len(pooled)).reshape(replicates, len(pooled))
        rows = np.minimum(rows, pooled)
    else:
        rows = rng.multivariate_hypergeometric(pooled, small, size=replicates, method="marginals")
    return rows if small == n_draw else pooled - rows


#: Sequential Monte Carlo for the permutation nulls: a tenth of the replicates (at least this many) first ...
SEQUENTIAL_MIN = 100
#: ... and the rest only when a metric's p-value from those is at most this.
SEQUENTIAL_STOP_P = 0.1


def table_nulls(reference_counts: np.ndarray, production_counts: np.ndarray, *, replicates: int = 1000,
                seed: int = 0, min_expected: float = MIN_EXPECTED, sequential: bool = True) -> dict[str, MomentNull]:
    """Nulls of ``jensen_shannon_distance`` and ``population_stability_index`` on one table.

    Closed form (scaled chi-squared) when no expected count of the smaller sample is below
    ``min_expected``, else the permutation null from ``replicates`` tables drawn with ``seeded(seed,
    pooled counts, sizes)``, sequentially: a tenth of them (at least ``SEQUENTIAL_MIN``) first, and the rest
    only when the p-value of JS or PSI from those is at most ``SEQUENTIAL_STOP_P`` (see the module);
    ``sequential=False`` draws all of them (``bench/null_tail.py`` checks the tail of that full null).
    """
    ref = np.asarray(reference_counts, dtype=np.int64)
    prod = np.asarray(production_counts, dtype=np.int64)
    n_r, n_p = int(ref.sum()), int(prod.sum())
    pooled = ref + prod
    cells = pooled > 0
    k = int(cells.sum())
    if k < 2:
        zero = MomentNull("single_cell", 0.0, 0.0, 0.0)
        return {"jensen_shannon_distance": zero, "population_stability_index": zero}
    n_e = effective_size(n_r, n_p)
    expected = min(n_r, n_p) * pooled[cells] / (n_r + n_p)
    if expected.min() >= min_expected:
        return {
            "jensen_shannon_distance": MomentNull.scaled_chi2(k - 1, 1 / (8 * math.log(2) * n_e), power=2,
                                                             method="chi2_asymptotic"),
            "population_stability_index": MomentNull.scaled_chi2(k - 1, 1 / n_e, power=1, method="chi2_asymptotic"),
        }
    rng = seeded(seed, pooled, np.array([n_r, n_p]))
    first = min(replicates, max(SEQUENTIAL_MIN, replicates // 10)) if sequential else replicates
    js, psi = _permuted_metrics(pooled, n_p, first, rng)
    nulls = _fitted(js, psi)
    observed = {"jensen_shannon_distance": float(jensen_shannon_rows(ref[None], prod[None])[0]),
                "population_stability_index": float(population_stability_rows(ref[None], prod[None])[0])}
    if first < replicates and any(null.pvalue(observed[name]) <= SEQUENTIAL_STOP_P for name, null in nulls.items()):
        more_js, more_psi = _permuted_metrics(pooled, n_p, replicates - first, rng)
        nulls = _fitted(np.concatenate((js, more_js)), np.concatenate((psi, more_psi)))
    return nulls


def _permuted_metrics(pooled: np.ndarray, n_p: int, replicates: int,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """JS distance and PSI of ``replicates`` permuted tables (``permuted_counts``)."""
    sim_prod = permuted_counts(pooled, n_p, replicates, rng)
    sim_ref = pooled - sim_prod
    return jensen_shannon_rows(sim_ref, sim_prod), population_stability_rows(sim_ref, sim_prod)


def _fitted(js: np.ndarray, psi: np.ndarray) -> dict[str, MomentNull]:
    return {"jensen_shannon_distance": MomentNull.fit(js, power=2, method="permutation"),
            "population_stability_index": MomentNull.fit(psi, power=1, method="permutation")}


def nwd_grid(n: int, cells: int = NWD_CELLS) -> np.ndarray:
    """Positions in a merged sample of ``n`` values: ``cells`` uniform steps plus geometric tails."""
    uniform = np.round(np.linspace(0, n - 1, cells + 1)).astype(np.int64)
    step = max(1, (n - 1) // cells)
    tail = np.unique(np.concatenate(([0], 2 ** np.arange(0, max(1, int(math.log2(step)) + 1)))))
    tail = tail[tail < n]
    return np.unique(np.concatenate((uniform, tail, n - 1 - tail)))


def _grid_permutation(u: np.ndarray, gaps: np.ndarray, n: int, small: int, replicates: int,
                      rng: np.random.Generator) -> np.ndarray:
    r"""Replicates of :math:`W_1` when the ``small`` rows of the smaller window are drawn from the ``n``
    pooled rows (with replacement, as ``permuted_counts``): :math:`\sum_l |F^*_r(\bar u_l) - F^*_p(\bar u_l)|
    g_l`, the windows' ECDFs at each cell's middle pooled rank :math:`n \bar u_l`."""
    ranks = np.floor(u * n)
    draws = rng.integers(0, n, size=(replicates, small))
    cell = np.searchsorted(ranks, draws, side="right")  # first cell whose middle rank is above the draw
    flat = cell + (len(u) + 1) * np.arange(replicates)[:, None]
    counts = np.bincount(flat.ravel(), minlength=replicates * (len(u) + 1)).reshape(replicates, len(u) + 1)
    below = np.cumsum(counts, axis=1)[:, :-1]  # draws at or below each middle rank
    diff = below / small - (ranks - below) / (n - small)
    return np.einsum("rl,l->r", np.abs(diff), gaps)


def _abs_bridges(u: np.ndarray, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """:math:`|B(u_l)|` of ``replicates`` Brownian bridges at the increasing points ``u`` of (0, 1), one
    row per point, one column per bridge. Sums over the points use ``np.einsum``, not ``@``: OpenBLAS's
    threaded matrix-vector product woke its threads per call and cost 5-30x the CPU (9 ms of the 10 ms
    NWD null at 10,000 + 10,000 rows)."""
    steps = np.diff(np.concatenate(([0.0], u, [1.0])))
    walk = np.cumsum(rng.standard_normal((len(steps), replicates)) * np.sqrt(steps)[:, None], axis=0)
    return np.abs(walk[:-1] - u[:, None] * walk[-1])


@functools.lru_cache(maxsize=16)
def _grid(n: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """``nwd_grid(n, cells)`` and the pooled ECDF at the middle of each of its cells (cached, read-only)."""
    pos = nwd_grid(n, cells)
    mid_u = ((pos[:-1] + 1 + pos[1:]) / 2) / n
    pos.setflags(write=False)
    mid_u.setflags(write=False)
    return pos, mid_u


@functools.lru_cache(maxsize=4)
def _grid_bridges(n: int, cells: int, replicates: int, seed: int) -> np.ndarray:
    """``_abs_bridges`` at the middles of the cells of ``nwd_grid(n, cells)`` (float32, read-only).

    They depend on the pooled size alone, so one draw (seeded by ``seed``, ``n`` and ``cells``) serves
    every feature and run of that size: 4 sizes of 2000 x ~270 float32 values, 9 MB at most.
    """
    bridges = _abs_bridges(_grid(n, cells)[1], replicates, np.random.default_rng([seed, n, cells])).astype(np.float32)
    bridges.setflags(write=False)
    return bridges


def nwd_null(merged: np.ndarray, n_r: int, n_p: int, *, scale: float, replicates: int = 1000, seed: int = 0,
             cells: int = NWD_CELLS) -> MomentNull:
    r"""Asymptotic null of NWD: :math:`\int_0^1 |B(u)|\,dQ(u) / (s \sqrt{n_e})`, simulated and gamma-fitted.

    ``merged`` is the pooled sample, sorted; ``scale`` the denominator of NWD (the reference's std, floored).
    When the smaller window holds at most 5% of the pooled rows and at most ``NWD_PERMUTATION_MAX`` draws
    are needed (200 rows at 1000 replicates) the
    limit is not used: the finite-sample permutation law of the same grid sum is drawn instead
    (``_grid_permutation``), since a few dozen rows, possibly tied, are far from Gaussian.
    With at most ``4 cells`` distinct pooled values (discrete data) the cells are those values and the sum
    is exact: :math:`\sum_a |B(F(a))| (a^+ - a)`. Otherwise the integral is the midpoint sum over the cells of
    :func:`nwd_grid`: :math:`\sum_l |B(\bar u_l)|
    (x_{l+1} - x_l)` with :math:`\bar u_l` the pooled ECDF at the middle of cell :math:`l`: that grid
    depends on the pooled size alone, so its ``max(replicates, NWD_BRIDGES)`` bridges are drawn once per
    size and seed and cached (``_grid_bridges``); only the gaps :math:`x_{l+1} - x_l` are the data's.
    The permutation and discrete-data draws depend on the data and come from ``seeded(seed, the cells'
    pooled values and positions, sizes)``.
    """
    n = len(merged)
    if n < 2:
        return MomentNull("brownian_bridge", 0.0, 0.0, 0.0)
    changes = merged[1:] != merged[:-1]
    discrete = int(np.count_nonzero(changes)) < 4 * cells  # few distinct values: the ECDFs only change at them
    if discrete:  # use them exactly (their positions are only listed then: 8 bytes a value otherwise)
        ends = np.flatnonzero(np.append(changes, True))
        pos, mid_u = ends, (ends[:-1] + 1) / n
    else:
        pos, mid_u = _grid(n, cells)
    return nwd_null_at(pos, merged[pos], mid_u, n_r, n_p, discrete=discrete, scale=scale, replicates=replicates,
                       seed=seed, cells=cells)


def nwd_null_at(pos: np.ndarray, values: np.ndarray, mid_u: np.ndarray, n_r: int, n_p: int, *, discrete: bool,
                scale: float, replicates: int = 1000, seed: int = 0, cells: int = NWD_CELLS) -> MomentNull:
    """``nwd_null`` from the pooled sample's values at the positions it uses, so that a caller holding only
    those values (``monitoring.data.ranges``: a feature split by value range) gets the same null.

    ``pos``: with ``discrete`` the last position of each distinct pooled value, else ``nwd_grid(n, cells)``;
    ``values`` the pooled sorted values there; ``mid_u`` the pooled ECDF at each cell's middle, as
    ``nwd_null`` computes it.
    """
    n = n_r + n_p
    gaps = np.diff(values)
    keep = gaps > 0
    if n < 2 or not keep.any():
        return MomentNull("brownian_bridge", 0.0, 0.0, 0.0)
    u, g = mid_u[keep], gaps[keep]
    rng = seeded(seed, values, pos, np.array([n_r, n_p]))
    small = min(n_r, n_p)
    if small <= ROW_DRAW_SHARE * n and small * replicates <= NWD_PERMUTATION_MAX:
        return MomentNull.fit(_grid_permutation(u, g, n, small, replicates, rng) / scale, power=1,
                              method="permutation")
    if discrete:
        integral = np.einsum("l,lr->r", g, _abs_bridges(u, replicates, rng))
    else:  # the grid depends only on n: its bridges are drawn once, gaps of tied cells are 0
        bridges = _grid_bridges(n, cells, max(replicates, NWD_BRIDGES), seed)
        integral = np.einsum("l,lr->r", gaps.astype(np.float32), bridges)
    return MomentNull.fit(integral / (scale * math.sqrt(effective_size(n_r, n_p))), power=1,
                         method="brownian_bridge")


__all__ = ["MIN_EXPECTED", "NWD_CELLS", "NWD_PERMUTATION_MAX", "ROW_DRAW_MAX", "ROW_DRAW_SHARE", "SEQUENTIAL_MIN",
           "SEQUENTIAL_STOP_P", "TAIL_SAFETY", "MomentNull",
           "effective_size", "nwd_grid", "nwd_null", "nwd_null_at", "permuted_counts",
           "seeded", "table_nulls"]
