"""The gate's multiplicity corrections against brute force and scipy; verdicts past threshold and significant."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from signals.drift import compute_drift
from signals.gate import Significance, adjust_pvalues, apply_gate, drift_count
from signals.results import FeatureResult, MetricResult, SignalResult


def _holm_brute_force(p: list[float], alpha: float) -> list[bool]:
    """Holm's step-down procedure as written in Holm (1979): reject in order until the first failure."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    reject = [False] * len(p)
    for rank, i in enumerate(order):
        if p[i] > alpha / (len(p) - rank):
            break
        reject[i] = True
    return reject


@pytest.mark.parametrize("seed", range(5))
def test_holm_adjusted_pvalues_reject_exactly_what_the_step_down_procedure_rejects(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate((rng.uniform(size=20), rng.uniform(0, 0.003, size=5)))
    for alpha in (0.01, 0.05, 0.1):
        assert (adjust_pvalues(p, "holm") <= alpha).tolist() == _holm_brute_force(p.tolist(), alpha)


def test_bh_equals_scipy_false_discovery_control() -> None:
    p = np.random.default_rng(1).uniform(0, 0.1, size=30)
    np.testing.assert_allclose(adjust_pvalues(p, "bh"), stats.false_discovery_control(p, method="bh"))


def test_invalid_settings_name_the_field_and_the_rule() -> None:
    with pytest.raises(ValueError, match=r"alpha is 1\.5"):
        Significance(alpha=1.5)
    with pytest.raises(ValueError, match="correction is 'bonf'; valid: holm, bh"):
        Significance(correction="bonf")  # type: ignore[arg-type]


def _feature(value: float, p: float) -> FeatureResult:
    mr = MetricResult(value=value, threshold=0.1, direction="less_is_better", breached=value > 0.1, p_value=p)
    return FeatureResult(kind="numerical", row_counts={}, metrics={"nwd": mr})


def test_breach_needs_past_threshold_and_the_corrected_pvalue_and_says_why_not() -> None:
    features = {"a": _feature(0.5, 0.001), "b": _feature(0.5, 0.004), "c": _feature(0.05, 1e-9)}
    gated = apply_gate(features, Significance(alpha=0.01))
    # Holm over 3: 1e-9 * 3, 0.001 * 2 = 0.002, 0.004 * 1 -> all significant; c is under its threshold
    assert [gated[f].metrics["nwd"].breached for f in "abc"] == [True, True, False]
    assert gated["c"].metrics["nwd"].significant is True
    strict = apply_gate(features, Significance(alpha=0.005))  # 0.002 and 0.004 both <= 0.005
    assert strict["b"].metrics["nwd"].breached is True
    stricter = apply_gate(features, Significance(alpha=0.0015))
    assert stricter["a"].metrics["nwd"].breached is False
    assert "not significant" in stricter["a"].metrics["nwd"].gate_reason
    assert stricter["a"].metrics["nwd"].value == 0.5  # values never change


def test_significance_off_reproduces_the_bare_verdicts_and_json_exactly() -> None:
    rng = np.random.default_rng(4)
    ref = pl.DataFrame({"x": rng.normal(size=200), "c": rng.choice(list("abcdefgh"), 200)})
    prod = pl.DataFrame({"x": rng.normal(0.15, 1, size=60), "c": rng.choice(list("abcdefgh"), 60)})
    kinds = {"x": "numerical", "c": "categorical"}
    thresholds = {"numerical": {"normalized_wasserstein_distance": 0.1, "jensen_shannon_distance": 0.1},
                  "categorical": {"jensen_shannon_distance": 0.1, "pearsons_chi_squared_test": 0.05}}
    off = compute_drift(prod, ref, signal_type="data_drift", features=["x", "c"], kinds=kinds,  # type: ignore[arg-type]
                        thresholds=thresholds, significance=None)
    for feature, fr in off.features.items():
        for name, mr in fr.metrics.items():
            assert mr.breached is (mr.value > mr.threshold if mr.direction == "less_is_better"
                                   else mr.value < mr.threshold) if mr.threshold is not None else mr.breached is None
            assert set(mr.model_dump()) == {"value", "threshold", "direction", "breached", "reason"}, (feature, name)
    ref_c, prod_c = ref["c"].value_counts().sort("c"), prod["c"].value_counts().sort("c")
    table = np.vstack((ref_c["count"].to_numpy(), prod_c["count"].to_numpy()))
    assert off.features["c"].metrics["pearsons_chi_squared_test"].value == pytest.approx(
        stats.chi2_contingency(table, correction=False).pvalue)
    on = compute_drift(prod, ref, signal_type="data_drift", features=["x", "c"], kinds=kinds,  # type: ignore[arg-type]
                       thresholds=thresholds)
    assert on.features["x"].metrics["normalized_wasserstein_distance"].value == \
        off.features["x"].metrics["normalized_wasserstein_distance"].value


def test_auto_without_significance_is_rejected_up_front() -> None:
    frame = pl.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(ValueError, match="'auto', which needs significance"):
        compute_drift(frame, frame, signal_type="data_drift", features=["x"], kinds={"x": "numerical"},
                      thresholds={"numerical": {"normalized_wasserstein_distance": "auto"}}, significance=None)


def test_auto_threshold_is_the_null_quantile_and_alpha_for_pvalue_metrics() -> None:
    rng = np.random.default_rng(2)
    ref, prod = pl.DataFrame({"x": rng.normal(size=3000)}), pl.DataFrame({"x": rng.normal(size=800)})
    result = compute_drift(prod, ref, signal_type="data_drift", features=["x"], kinds={"x": "numerical"},
                           thresholds={"numerical": {"normalized_wasserstein_distance": "auto",
                                                     "two_sample_kolmogorov_smirnov_test": "auto"}})
    nwd = result.features["x"].metrics["normalized_wasserstein_distance"]
    assert nwd.threshold == nwd.null_quantile
    # the NWD null at these sizes: NWD * sqrt(n_eff) has its 99th percentile near 2.5 for normal data
    assert 2.0 < nwd.threshold * np.sqrt(3000 * 800 / 3800) < 3.2
    assert result.features["x"].metrics["two_sample_kolmogorov_smirnov_test"].threshold == 0.01


def test_run_level_count_names_the_chance_the_correction_controls() -> None:
    features = {f"f{i}": _feature(0.5 if i < 3 else 0.0, 1e-6 if i < 3 else 0.5) for i in range(30)}
    result = SignalResult(type="data_drift", status="completed", significance=Significance(),
                          features=apply_gate(features, Significance()))
    count = drift_count(result)
    assert (count.drifted, count.features) == (3, 30)
    assert count.sentence() == ("3 of 30 features drifted (expected by chance at alpha 0.01, holm: any false "
                                "alarm in at most 1% of runs)")
    bh = result.model_copy(update={"significance": Significance(alpha=0.05, correction="bh")})
    assert drift_count(bh).sentence().endswith("bh: at most 5% of drifted features, on average)")
    off = result.model_copy(update={"significance": None})
    assert drift_count(off).sentence() == ("3 of 30 features drifted (significance off: bare thresholds, "
                                           "chance not controlled)")


def test_gate_false_alarm_rate_is_bounded_on_seeded_no_drift_runs() -> None:
    """40 runs of 10 features with no drift at n = 60 (where NWD > 0.1 almost always): Holm at 0.05."""
    rng = np.random.default_rng(11)
    features = [f"x{i}" for i in range(10)]
    kinds = dict.fromkeys(features, "numerical")
    alarms = bare = 0
    for _ in range(40):
        ref = pl.DataFrame({f: rng.normal(size=400) for f in features})
        prod = pl.DataFrame({f: rng.normal(size=60) for f in features})
        result = compute_drift(prod, ref, signal_type="data_drift", features=features, kinds=kinds,  # type: ignore[arg-type]
                               thresholds={"numerical": {"normalized_wasserstein_distance": 0.1}},
                               significance=Significance(alpha=0.05, replicates=200), workers=1)
        alarms += result.breached
        bare += any(f.metrics["normalized_wasserstein_distance"].past_threshold for f in result.features.values())
    assert bare >= 36  # the bare threshold alarms on nearly every run
    assert alarms <= 6  # Holm's family-wise 5%: 2 expected, P(> 6) < 0.01 under Binomial(40, 0.05)
