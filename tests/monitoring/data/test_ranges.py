"""Value-range drift equals the in-memory computation: every metric, null, verdict, histogram and profile."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl
import pytest
from scipy import stats

from monitoring.data.ranges import needs_split, side_stats, split_numerical_drift, summarize
from signals.drift import numerical_drift
from signals.info import Significance
from signals.profile import numerical_profile

THRESHOLDS = {"normalized_wasserstein_distance": 0.1, "jensen_shannon_distance": "auto"}


def assert_close(got: Any, want: Any, path: str = "", rel: float = 1e-12) -> None:
    """Equal structures; floats to ``rel`` relative (1e-15 absolute near 0), everything else exactly."""
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{path}: {got} != {want}"
        assert got.keys() == want.keys(), f"{path}: {got} != {want}"
        for k in want:
            assert_close(got[k], want[k], f"{path}.{k}", rel)
    elif isinstance(want, list | tuple):
        assert isinstance(got, list | tuple), f"{path}: {got} != {want}"
        assert len(got) == len(want), f"{path}: {got} != {want}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_close(g, w, f"{path}[{i}]", rel)
    elif isinstance(want, float) and not isinstance(want, bool):
        assert isinstance(got, float | int), f"{path}: {got!r} != {want!r}"
        assert math.isclose(got, want, rel_tol=rel, abs_tol=1e-15), f"{path}: {got!r} != {want!r}"
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


def _data(kind: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "continuous":
        return rng.normal(0.0, 1.0, n)
    if kind == "ties":  # few distinct values: ties fall across range boundaries
        return np.round(rng.normal(0.0, 3.0, n))
    if kind == "constant":
        return np.full(n, 2.5)
    return rng.lognormal(0.0, 1.0, n)


def _with_nulls(values: np.ndarray, seed: int) -> pl.Series:
    """The values with NaN and +/-inf kept and 30 nulls (missing values, not NaN) put in."""
    missing = np.zeros(len(values), dtype=bool)
    missing[np.random.default_rng(seed).choice(len(values), 30, replace=False)] = True
    return pl.select(pl.when(pl.Series(missing)).then(None).otherwise(pl.Series(values)).alias("x")).to_series()


def _frames(tmp_path: Any, ref: pl.Series, prod: pl.Series) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    pl.DataFrame({"x": ref}).write_parquet(tmp_path / "ref.parquet", row_group_size=2000)
    pl.DataFrame({"x": prod}).write_parquet(tmp_path / "prod.parquet", row_group_size=2000)
    return pl.scan_parquet(tmp_path / "ref.parquet"), pl.scan_parquet(tmp_path / "prod.parquet")


def _dirty(values: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = values.copy()
    out[rng.choice(len(out), 40, replace=False)] = np.nan
    out[rng.choice(len(out), 7, replace=False)] = np.inf
    out[rng.choice(len(out), 5, replace=False)] = -np.inf
    return out


@pytest.mark.parametrize(("kind", "shift", "significance"), [
    ("continuous", 0.0, Significance()), ("continuous", 0.05, Significance(correction="bh", seed=3)),
    ("ties", 0.3, Significance()), ("lognormal", 0.0, Significance()), ("constant", 0.0, Significance()),
    ("continuous", 0.1, None),
])
def test_split_equals_in_memory(tmp_path: Any, kind: str, shift: float, significance: Significance | None) -> None:
    ref_s = _with_nulls(_dirty(_data(kind, 12_000, 1), 2), 5)
    prod_s = _with_nulls(_dirty(_data(kind, 15_000, 3) + shift, 4), 6)
    reference, production = _frames(tmp_path, ref_s, prod_s)
    r, p = side_stats(reference, ["x"])["x"], side_stats(production, ["x"])["x"]
    budget_rows = 3000
    assert needs_split(r, p, budget_rows)
    summary = summarize(reference, production, "x", r, p, budget_rows=budget_rows)
    if kind != "constant":
        assert summary.ranges >= 8  # every feature in several ranges
        assert max(summary.sizes()) <= budget_rows
    got = split_numerical_drift(reference, production, summary, thresholds=THRESHOLDS, significance=significance,
                                profiled=True)
    want = numerical_drift(ref_s, prod_s, thresholds=THRESHOLDS, significance=significance)
    want_dump = want.model_dump(mode="json")
    want_dump["details"]["profile"] = numerical_profile(ref_s, prod_s)
    assert_close(got.model_dump(mode="json"), want_dump)
    # independent of the project: scipy's KS statistic and Wasserstein distance on the finite values
    ref, prod = ref_s.drop_nulls().to_numpy(), prod_s.drop_nulls().to_numpy()
    finite_r, finite_p = ref[np.isfinite(ref)], prod[np.isfinite(prod)]
    ks = stats.ks_2samp(finite_r, finite_p, method="asymp").pvalue
    assert math.isclose(got.metrics["two_sample_kolmogorov_smirnov_test"].value, ks, rel_tol=1e-9, abs_tol=1e-15)
    w1 = stats.wasserstein_distance(finite_r, finite_p) / max(float(np.std(finite_r, ddof=1)), 0.001)
    assert math.isclose(got.metrics["normalized_wasserstein_distance"].value, w1, rel_tol=1e-9, abs_tol=1e-15)
    assert got.histogram is not None
    counts, _ = np.histogram(finite_r, bins=np.asarray(got.histogram.edges))
    assert got.histogram.reference == counts.tolist()


def test_small_sides_are_not_split() -> None:
    r = side_stats(pl.LazyFrame({"x": np.arange(5000.0)}), ["x"])["x"]
    assert not needs_split(r, r, 100)  # the exact KS p-value needs the samples


@pytest.mark.parametrize("n", [11_396, 12_000, 10_001, 54_321])
def test_profile_quantiles_are_numpys_bit_for_bit(n: int) -> None:
    from monitoring.data import range_stats

    values = np.sort(np.random.default_rng(n).lognormal(2.0, 1.0, n))
    at = dict(enumerate(values.tolist()))
    qs = np.linspace(0, 1, 21)
    got = [range_stats._quantile(at, n, float(q)) for q in qs]
    assert got == np.quantile(values, qs).tolist()
