r"""The null laws of the drift tests' p-values at large samples, from ``scipy.special`` alone.

``import scipy.stats`` costs about 1 s of CPU, all of it holding the GIL, and ~50 MB of memory: at a
million rows a side it took more than the KS and chi-squared tests of 30 features together, and it
serialised the threads computing them. The laws those tests need past 10,000 rows are a few lines over
``scipy.special``, so they are evaluated here exactly as scipy evaluates them, and ``scipy.stats`` is
imported only on the branches where scipy's own method is more than a closed form (the Durbin matrix at
:math:`n \le 100{,}000` and small :math:`D`, every method at :math:`n \le 140`) and by the exact
small-sample KS p-value. The tests compare every branch with ``scipy.stats`` on a grid of sizes and
statistics.

- :func:`kstwo_sf`: :math:`P(D_n \ge d)` of the one-sample two-sided Kolmogorov statistic, scipy's
  ``kstwo.sf`` (Simard & L'Ecuyer 2011, doi:10.18637/jss.v039.i11: the method is chosen by :math:`n` and
  :math:`n d^2`): 0 for :math:`n d^2 \ge 370`; :math:`2\,P(D^+_n \ge d)` (Smirnov's exact sum,
  :func:`smirnov_sum` or ``scipy.special.smirnov``) for :math:`n d^2 \ge 2.2` or :math:`d \ge 1/2`;
  Ruben & Gambino's closed forms for :math:`d \le 1/n` and :math:`d \ge 1 - 1/n`; otherwise one minus
  Pelz & Good's (1976) series for the CDF (:func:`pelz_good_cdf`).
- :func:`chi2_sf`: the chi-squared survival function, ``scipy.special.chdtrc``.
"""

from __future__ import annotations

import math

import numpy as np

#: For :math:`2.2 \le N D^2 < 370`, scipy's ``kstwo.sf(D, N)`` is ``2 * smirnov(N, D)``, whose exact sum
#: scipy adds one term at a time up to N = 10**6 (1.7 s at N = 990,000); above, it approximates.
SMIRNOV_EXACT_MAX_N = 1_000_000
#: Below this N, scipy's own loop takes under ~20 ms.
SMIRNOV_SUM_MIN_N = 20_000
#: Up to this :math:`N D^2` (p about 1e-295) the sum's terms are normal floats; beyond, scipy's loop.
SMIRNOV_SUM_MAX_ND2 = 340.0
#: Up to this n scipy evaluates every branch by methods of its own (Durbin, Pomeranz): ``scipy.stats``.
SMALL_N = 140
#: Up to this n and for :math:`n d^{3/2} \le 1.4`, scipy's CDF is the Durbin matrix: ``scipy.stats``.
DURBIN_MAX_N = 100_000

_STIRLING = [-2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3,
             8.4175084175084175084e-4, -5.952380952380952381e-4, 7.9365079365079365079e-4,
             -2.7777777777777777778e-3, 8.3333333333333333333e-2]
_PI2, _PI4, _PI6 = np.pi ** 2, np.pi ** 4, np.pi ** 6
_SQRT2PI, _LOG_2PI, _SQRT3 = np.sqrt(2 * np.pi), np.log(2 * np.pi), np.sqrt(3)
_MIN_LOG = -708


def kstwo_sf(d: float, n: int) -> float:
    r""":math:`P(D_n \ge d)`, ``scipy.stats.kstwo.sf(d, n)`` (see the module docstring for the branches).

    >>> kstwo_sf(0.0, 500_000), kstwo_sf(0.1, 500_000)
    (1.0, 0.0)
    """
    if math.isnan(d) or not 0.0 < d < 1.0:
        return d if math.isnan(d) else float(d <= 0.0)
    if n <= SMALL_N:
        return _scipy_kstwo_sf(d, n)
    t = n * d
    if t <= 1.0:  # Ruben & Gambino: 1/(2n) <= d <= 1/n
        if t <= 0.5:
            return 1.0
        return _clip(1.0 - float(np.exp(_log_factorial_over_power(n) + n * np.log(2 * t - 1))))
    if t >= n - 1:  # Ruben & Gambino
        return _clip(2 * (1.0 - d) ** n)
    nd2 = t * d
    if d >= 0.5 or 2.2 <= nd2 < 370.0:
        return _clip(2.0 * smirnov(n, d))
    if nd2 >= 370.0:
        return 0.0
    if n <= DURBIN_MAX_N and n * d ** 1.5 <= 1.4:
        return _scipy_kstwo_sf(d, n)
    return _clip(1.0 - pelz_good_cdf(n, d))


def smirnov(n: int, e: float) -> float:
    r"""Smirnov's one-sided tail :math:`P(D^+_n \ge e)`: ``scipy.special.smirnov``, or :func:`smirnov_sum`
    (the same sum in one numpy pass) where scipy's term-by-term loop is slow."""
    from scipy import special
    if SMIRNOV_SUM_MIN_N < n <= SMIRNOV_EXACT_MAX_N and 2.2 <= n * e * e < SMIRNOV_SUM_MAX_ND2 and e < 0.5:
        return smirnov_sum(n, e)
    return float(special.smirnov(n, e))


def smirnov_sum(n: int, e: float) -> float:
    r"""Smirnov's one-sided exact tail :math:`P(D^+_n \ge e)`, ``scipy.special.smirnov(n, e)``'s sum, in
    one numpy pass (~10 times faster than scipy's term-by-term loop: 90 ms against 0.9 s at n = 495,000):

    .. math:: P(D^+_n \ge e) = e \sum_{j=0}^{\lfloor n(1-e) \rfloor} \binom{n}{j}
              \left(e + \tfrac{j}{n}\right)^{j-1} \left(1 - e - \tfrac{j}{n}\right)^{n-j}
              = e \sum_j \frac{b(j;\, n,\, q_j)}{q_j}, \quad q_j = e + \tfrac{j}{n}

    with :math:`b` the binomial pmf: boost's, the ufunc behind ``scipy.stats.binom.pmf`` (accurate to a
    few ulp; the log-gamma form of the binomial coefficient loses 1e-9 to cancellation at n = 10**6).
    Birnbaum & Tingey (1951), doi:10.1214/aoms/1177729550.

    >>> round(smirnov_sum(3, 0.5), 12)  # (1/2) (2 (1/2)**3 + 3 (1/6)**2)
    0.166666666667
    """
    from scipy.special import _ufuncs  # binom.pmf's own ufunc; scipy.stats would cost ~1 s to import

    j = np.arange(math.floor(n * (1.0 - e)) + 1, dtype=np.float64)
    q = j / n
    q += e
    terms = _ufuncs._binom_pmf(j, n, q)
    terms /= q
    return e * float(np.sum(terms))


def pelz_good_cdf(n: int, x: float) -> float:
    r"""Pelz & Good's (1976) approximation of :math:`P(D_n \le x)`, as scipy evaluates it
    (``scipy.stats._ksstats._kolmogn_PelzGood``, same terms in the same order):

    .. math:: P(D_n \le x) \approx K_0(z) + \frac{K_1(z)}{\sqrt n} + \frac{K_2(z)}{n} + \frac{K_3(z)}{n^{3/2}},
              \quad z = x \sqrt n

    with each :math:`K_i` written through Jacobi's theta transform as sums over odd integers that converge
    fast for small :math:`z` (doi:10.1111/j.2517-6161.1976.tb01597.x)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    z = np.sqrt(n) * x
    z2, z3, z4, z6 = z ** 2, z ** 3, z ** 4, z ** 6
    qlog = -_PI2 / 8 / z2
    if qlog < _MIN_LOG:
        return 0.0
    q = np.exp(qlog)
    k1a, k1b = -z2, _PI2 / 4
    k2a, k2b, k2c = 6 * z6 + 2 * z4, (2 * z4 - 5 * z2) * _PI2 / 4, _PI4 * (1 - 2 * z2) / 16
    k3d, k3c = _PI6 * (5 - 30 * z2) / 64, _PI4 * (-60 * z2 + 212 * z4) / 16
    k3b, k3a = _PI2 * (135 * z4 - 96 * z6) / 4, -30 * z6 - 90 * z ** 8
    terms = np.zeros(4)
    top = int(np.ceil(16 * z / np.pi))
    for k in range(top, 0, -1):  # Horner's scheme over q**(odd squares)
        m = 2 * k - 1
        m2, m4, m6 = m ** 2, m ** 4, m ** 6
        terms *= np.power(q, 8 * k)
        terms += np.array([1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6])
    terms *= q
    terms *= _SQRT2PI
    terms /= np.array([z, 6 * z4, 72 * z ** 7, 6480 * z ** 10])
    q = np.exp(-_PI2 / 2 / z2)  # the sums over all integers k in K_2 and K_3
    ks = np.arange(top, 0, -1)
    ks2 = ks ** 2
    sqrt3z, kspi = _SQRT3 * z, np.pi * ks
    powers = q ** ks2
    extra2 = np.sum(ks2 * powers)
    extra2 *= _PI2 * _SQRT2PI / (-36 * z3)
    terms[2] += extra2
    extra3 = np.sum((sqrt3z + kspi) * (sqrt3z - kspi) * ks2 * powers)
    extra3 *= _PI2 * _SQRT2PI / (216 * z6)
    terms[3] += extra3
    terms /= np.power(n * 1.0, np.arange(len(terms)) / 2.0)
    return float(sum(terms))


def chi2_sf(statistic: float, dof: int) -> float:
    """:math:`P(\\chi^2_{dof} \\ge statistic)`: ``scipy.special.chdtrc``, which ``scipy.stats.chi2.sf`` calls."""
    from scipy import special
    return float(special.chdtrc(dof, statistic))


def _log_factorial_over_power(n: int) -> float:
    """:math:`\\log(n! / n^n)` by Stirling's series, with :math:`n \\log n` taken out first (scipy's)."""
    rn = 1.0 / n
    return float(np.log(n) / 2 - n + _LOG_2PI / 2 + rn * np.polyval(_STIRLING, rn / n))


def _clip(p: float) -> float:
    return float(np.clip(p, 0.0, 1.0))


def _scipy_kstwo_sf(d: float, n: int) -> float:
    from scipy import stats
    return _clip(float(stats.kstwo.sf(d, n)))


__all__ = ["DURBIN_MAX_N", "SMALL_N", "SMIRNOV_EXACT_MAX_N", "SMIRNOV_SUM_MAX_ND2", "SMIRNOV_SUM_MIN_N",
           "chi2_sf", "kstwo_sf", "pelz_good_cdf", "smirnov", "smirnov_sum"]
