"""The p-value laws of ``signals.laws`` against ``scipy.stats`` on every branch, and the import they save."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy import special, stats

from signals import laws

#: n * d**2 across every branch of kstwo.sf: Pelz-Good below 2.2, Smirnov's sum up to 370, 0 beyond.
ND2 = [1e-4, 0.01, 0.05, 0.2, 0.5, 0.754, 1.0, 1.5, 2.19, 2.2, 2.21, 3.0, 10.0, 17.9, 18.0, 50.0, 200.0, 339.0,
       341.0, 369.0, 371.0, 1000.0]
SIZES = [141, 150, 999, 5_000, 20_000, 20_001, 99_999, 100_000, 100_001, 123_457, 500_000, 1_000_000, 1_000_001,
         3_000_000]


@pytest.mark.parametrize("n", SIZES)
def test_kstwo_sf_equals_scipy_on_every_branch(n: int) -> None:
    ds = sorted({math.sqrt(nd2 / n) for nd2 in ND2} | {0.4 / n, 0.5 / n, 0.75 / n, 1.0 / n, 1.5 / n, 0.3, 0.49,
                                                       0.5, 0.7, 1 - 1.5 / n, 1 - 1 / n, 1 - 0.5 / n})
    for d in ds:
        if not 0 < d < 1:
            continue
        want = float(np.clip(stats.kstwo.sf(d, n), 0, 1))
        assert laws.kstwo_sf(d, n) == pytest.approx(want, rel=1e-11, abs=1e-300), (n, d)


@pytest.mark.parametrize("n", [1, 2, 10, 140])
def test_kstwo_sf_small_n_is_scipys(n: int) -> None:
    for d in (0.01, 0.2, 0.5, 0.9):
        assert laws.kstwo_sf(d, n) == pytest.approx(float(stats.kstwo.sf(d, n)), rel=1e-12, abs=1e-300)


def test_kstwo_sf_ends() -> None:
    assert laws.kstwo_sf(0.0, 10**6) == 1.0
    assert laws.kstwo_sf(-0.1, 10**6) == 1.0
    assert laws.kstwo_sf(1.0, 10**6) == 0.0
    assert laws.kstwo_sf(0.3, 10**6) == float(stats.kstwo.sf(0.3, 10**6)) == 0.0
    assert math.isnan(laws.kstwo_sf(math.nan, 10**6))
    assert math.isnan(float(stats.kstwo.sf(math.nan, 10**6)))


def test_pelz_good_cdf_is_kstwo_cdf_where_scipy_uses_it() -> None:
    """Above 100,000 and below n d**2 = 18 scipy's CDF is Pelz-Good's series."""
    for n in (100_001, 750_000, 10**7):
        for nd2 in (0.05, 0.3, 1.0, 2.0, 5.0, 17.0):
            d = math.sqrt(nd2 / n)
            assert laws.pelz_good_cdf(n, d) == pytest.approx(float(stats.kstwo.cdf(d, n)), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize(("en", "nd2"), [(20_001, 2.2), (123_457, 5.0), (495_000, 100.0), (1_000_000, 339.0)])
def test_smirnov_sum_equals_scipy_special(en: int, nd2: float) -> None:
    d = math.sqrt(nd2 / en)
    assert laws.smirnov_sum(en, d) == pytest.approx(special.smirnov(en, d), rel=1e-11, abs=0)
    assert laws.smirnov(en, d) == laws.smirnov_sum(en, d)
    assert laws.smirnov(en, 0.6) == special.smirnov(en, 0.6)  # d >= 1/2: scipy's own


@pytest.mark.parametrize("dof", [1, 2, 9, 40])
def test_chi2_sf_equals_scipy(dof: int) -> None:
    for x in (0.0, 0.5, dof, 3.0 * dof, 100.0 + dof):
        assert laws.chi2_sf(x, dof) == pytest.approx(float(stats.chi2.sf(x, dof)), rel=1e-13, abs=1e-300)


def test_drift_at_scale_does_not_import_scipy_stats() -> None:
    """Past the exact KS method's 10,000 rows, a drift signal (numerical and categorical features, Holm's
    gate, 'auto' thresholds) needs only ``scipy.special``: the ~1 s import of ``scipy.stats`` is avoided."""
    script = textwrap.dedent("""
        import sys
        import numpy as np, polars as pl
        from signals import drift
        rng = np.random.default_rng(0)
        def frame(n, shift):
            return pl.DataFrame({"x": rng.normal(shift, 1, n), "c": rng.integers(0, 30, n).astype(str)})
        drift.compute_drift(frame(25_000, 0.02), frame(30_000, 0.0), signal_type="data_drift", features=["x", "c"],
                            kinds={"x": "numerical", "c": "categorical"},
                            thresholds={"numerical": {"normalized_wasserstein_distance": "auto"},
                                        "categorical": {"jensen_shannon_distance": "auto"}}, profile=True)
        print("scipy.stats" in sys.modules, "scipy.spatial" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"], out.stderr
