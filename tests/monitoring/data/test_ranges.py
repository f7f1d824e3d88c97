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
    assert needs_split(r, p)
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
    assert not needs_split(r, r)  # the exact KS p-value needs the samples


@pytest.mark.parametrize("n", [11_396, 12_000, 10_001, 54_321])
def test_profile_quantiles_are_numpys_bit_for_bit(n: int) -> None:
    from monitoring.data import range_stats

    values = np.sort(np.random.default_rng(n).lognormal(2.0, 1.0, n))
    at = dict(enumerate(values.tolist()))
    qs = np.linspace(0, 1, 21)
    got = [range_stats._quantile(at, n, float(q)) for q in qs]
    assert got == np.quantile(values, qs).tolist()


@pytest.mark.parametrize(("kind", "straddle"), [("continuous", False), ("ties", False), ("continuous", True)])
def test_profile_bins_come_from_the_ranges_without_a_pass_except_edges_between_ranges(tmp_path: Any, kind: str,
                                                                                       straddle: bool) -> None:
    """Each quantile-bin edge inside a range is counted by that range; only an edge whose two reference
    ranks straddle a boundary is counted by a streaming pass. Counts equal numpy's histogram either way."""
    from monitoring.data.range_models import BIN_QUANTILES
    from monitoring.data.ranges import profile_bins, range_share

    ref_s = _with_nulls(_dirty(_data(kind, 12_000, 1), 2), 5)
    prod_s = _with_nulls(_dirty(_data(kind, 15_000, 3), 4), 6)  # ties: production values on the edges
    reference, production = _frames(tmp_path, ref_s, prod_s)
    r, p = side_stats(reference, ["x"])["x"], side_stats(production, ["x"])["x"]
    summary = summarize(reference, production, "x", r, p, budget_rows=3000)
    if straddle:  # one more boundary between the reference's two ranks around its median
        from monitoring.data.range_models import FeatureSummary, virtual_index
        from monitoring.data.ranges import counts_below

        ordered = np.sort(ref_s.drop_nulls().filter(ref_s.drop_nulls().is_finite()).to_numpy())
        upper = math.floor(virtual_index(len(ordered), 0.5)) + 1
        assert ordered[upper] > ordered[upper - 1]
        boundaries = sorted({*summary.boundaries, float(ordered[upper])})
        below = [(0, 0), *zip(counts_below(reference, "x", boundaries), counts_below(production, "x", boundaries),
                              strict=True)]
        summary = FeatureSummary(**{**dict(summary), "boundaries": boundaries, "below": below})
    shares = [range_share(reference, production, summary, j) for j in range(summary.ranges)]
    assert sum(len(s.edge_counts) for s in shares) >= len(BIN_QUANTILES) - summary.ranges
    ref = ref_s.drop_nulls().to_numpy()
    prod = prod_s.drop_nulls().to_numpy()
    finite_r, finite_p = ref[np.isfinite(ref)], prod[np.isfinite(prod)]
    inner = np.unique(np.quantile(finite_r, BIN_QUANTILES))
    edges = [-np.inf, *inner, np.inf]
    want = (np.histogram(finite_r, edges)[0].tolist(), np.histogram(finite_p, edges)[0].tolist())
    assert profile_bins(reference, production, summary, shares) == want
    straddling = set(inner.tolist()) - {e for s in shares for e, _, _ in s.edge_counts}
    assert bool(straddling) is straddle
    if not straddling:  # no pass at all: frames that cannot be read are never read
        empty = pl.LazyFrame({"y": [1.0]})
        assert profile_bins(empty, empty, summary, shares) == want
    # every straddling edge is read by the pass: dropping a range's counts still gives numpy's counts
    dropped = [s.model_copy(update={"edge_counts": []}) if i == 1 else s for i, s in enumerate(shares)]
    assert profile_bins(reference, production, summary, dropped) == want


def test_the_first_sample_comes_with_the_counts_in_one_pass(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``sampled_side_stats`` gives every ``every``-th finite value along with the counts, and ``summarize``
    then takes no sample pass of its own for the first boundaries; the summary is as exact as before."""
    from monitoring.data import ranges
    from monitoring.data.ranges import sample_every, sampled_side_stats

    ref_s = _with_nulls(_dirty(_data("continuous", 12_000, 1), 2), 5)
    prod_s = _with_nulls(_dirty(_data("continuous", 15_000, 3) + 0.1, 4), 6)
    reference, production = _frames(tmp_path, ref_s, prod_s)
    every = sample_every(27_000, 3000)
    assert every > 1
    (r, ref_sample), (p, prod_sample) = (sampled_side_stats(f, ["x"], every=every) for f in (reference, production))
    r, p = r["x"], p["x"]
    for got, frame in ((r, reference), (p, production)):  # the same counts (the mean's last bit may vary)
        assert_close(got.model_dump(), side_stats(frame, ["x"])["x"].model_dump())
    values = ref_s.drop_nulls().to_numpy()
    assert sorted(ref_sample["x"].tolist()) == sorted(values[np.isfinite(values)][::every].tolist())
    calls: list[Any] = []
    real = ranges._sample
    monkeypatch.setattr(ranges, "_sample", lambda *a, **k: calls.append(a[2:4]) or real(*a, **k))
    summary = summarize(reference, production, "x", r, p, budget_rows=3000,
                        sample=np.concatenate((ref_sample["x"], prod_sample["x"])))
    assert all(bounds != (None, None) for bounds in calls)  # refinements only, never the whole line again
    assert summary.ranges >= 8
    assert max(summary.sizes()) <= 3000
    got = split_numerical_drift(reference, production, summary, thresholds=THRESHOLDS, significance=Significance(),
                                profiled=False)
    want = numerical_drift(ref_s, prod_s, thresholds=THRESHOLDS, significance=Significance())
    assert_close(got.model_dump(mode="json"), want.model_dump(mode="json"))


def test_phase_one_of_several_features_counts_them_in_one_pass_per_side_and_round(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``summarize_all`` over a frame of three features: the summaries of ``summarize`` one at a time, with
    each round's counts below of all the features in one pass per side (exact: numpy's counts)."""
    from monitoring.data import ranges
    from monitoring.data.ranges import summarize_all

    columns = {"a": _dirty(_data("continuous", 12_000, 1), 2), "b": _dirty(_data("ties", 12_000, 3), 4),
               "c": _dirty(_data("lognormal", 12_000, 5), 6)}
    prod_columns = {k: v[::-1] * 1.1 for k, v in columns.items()}
    pl.DataFrame(columns).write_parquet(tmp_path / "ref.parquet", row_group_size=2000)
    pl.DataFrame(prod_columns).write_parquet(tmp_path / "prod.parquet", row_group_size=2000)
    reference, production = pl.scan_parquet(tmp_path / "ref.parquet"), pl.scan_parquet(tmp_path / "prod.parquet")
    r, p = side_stats(reference, list(columns)), side_stats(production, list(columns))
    one_at_a_time = {f: summarize(reference.select(f), production.select(f), f, r[f], p[f], budget_rows=3000)
                     for f in columns}
    passes: list[list[str]] = []
    real = ranges.counts_below_all
    monkeypatch.setattr(ranges, "counts_below_all", lambda frame, b: passes.append(list(b)) or real(frame, b))
    together = summarize_all(reference, production, {f: (r[f], p[f]) for f in columns}, budget_rows=3000)
    assert together == one_at_a_time
    assert passes[0] == passes[1] == list(columns)  # the first round: every feature in one pass per side
    assert len(passes) <= 2 * ranges._REFINE_ROUNDS
    for f, summary in together.items():
        assert summary.ranges >= 8
        ref, prod = columns[f][np.isfinite(columns[f])], prod_columns[f][np.isfinite(prod_columns[f])]
        assert summary.below[1:] == [(int(np.sum(ref < b)), int(np.sum(prod < b))) for b in summary.boundaries]
