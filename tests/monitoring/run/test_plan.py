"""The planner and compute step know no signal type: they ask the type's registry record and its
definition model. A throwaway type, registered in a fixture, runs through both without a runner edit."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import polars as pl
import pytest

import monitoring.run
from monitoring.definition import DataSegment, LoadedMonitor, SignalType, load_text
from monitoring.definition.signals import PlanContext, SignalBase
from monitoring.run.compute import compute_signal, merge_batches
from monitoring.run.plan import plan_signal
from monitoring.storage.local import LocalStore
from signals.info import FeatureKind, MetricInfo
from signals.registry import BY_TYPE, METRICS_BY_SIGNAL, SignalInfo, registered
from signals.results import FeatureResult, SignalResult, judge

RUN = Path(monitoring.run.__file__).parent
FIRE = datetime(2026, 3, 10, tzinfo=UTC)
TYPES = frozenset(BY_TYPE) | frozenset(get_args(SignalType))


def _type_literals(source: str, filename: str) -> list[str]:
    """``file:line 'literal'`` for every string constant that is a signal type."""
    return [f"{filename}:{node.lineno} {node.value!r}" for node in ast.walk(ast.parse(source, filename))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in TYPES]


def test_the_runner_compares_no_signal_type() -> None:
    found = [hit for path in sorted(RUN.glob("*.py")) for hit in _type_literals(path.read_text(), path.name)]
    assert found == []


def test_the_literal_check_finds_a_planted_branch() -> None:
    """Guards the test above: a branch on a type, or a set of types, is found."""
    planted = 'if plan.type == "model_performance" or signal.type in {"custom", "data_drift"}:\n    pass\n'
    assert _type_literals(planted, "x.py") == ["x.py:1 'model_performance'", "x.py:1 'custom'", "x.py:1 'data_drift'"]
    assert len(list(RUN.glob("*.py"))) >= 5  # the glob sees the runner's modules


# --------------------------------------------------------------------------------------------------
# A throwaway signal type: weighted mean shift, |weighted mean(production) - weighted mean(reference)|


def compute_mean_shift(production: pl.DataFrame, reference: pl.DataFrame, *, signal_type: str,
                       features: Sequence[str], kinds: Mapping[str, FeatureKind],
                       thresholds: Mapping[str, Mapping[str, float]], on_feature: Callable[[str], None] | None = None,
                       weight: str) -> SignalResult:
    out: dict[str, FeatureResult] = {}
    for f in features:
        means = [float(frame.select((pl.col(f) * pl.col(weight)).sum() / pl.col(weight).sum()).item())
                 for frame in (production, reference)]
        metric = judge(abs(means[0] - means[1]), thresholds.get(kinds[f], {}).get("mean_shift"),
                       greater_is_better=False)
        counts = {"production": production.height, "reference": reference.height}
        out[f] = FeatureResult(kind=kinds[f], row_counts=counts, metrics={"mean_shift": metric})
    return SignalResult(type=signal_type, status="completed", features=out,
                        notes=[f"weighted by {weight}; read {sorted(production.columns)}"])


def weighted_columns(features: Sequence[str], options: Mapping[str, Any],
                     segment: str | None) -> tuple[list[str], list[str]]:
    wanted = [*features, options["weight"], *([segment] if segment else [])]
    return wanted, wanted


MEAN_SHIFT = SignalInfo("mean_shift", compute_mean_shift, (MetricInfo("mean_shift", ("numerical",)),),
                        {"numerical": {"mean_shift": 0.25}}, columns=weighted_columns)


class MeanShiftSignal(SignalBase):
    type: Literal["mean_shift"]
    weight: str

    def options(self, context: PlanContext) -> dict[str, Any]:
        return {"weight": self.weight}

    def role_columns(self) -> set[str]:
        return super().role_columns() | {self.weight}


@pytest.fixture
def mean_shift() -> Iterator[SignalInfo]:
    with registered(MEAN_SHIFT):
        yield MEAN_SHIFT
    assert "mean_shift" not in BY_TYPE
    assert "mean_shift" not in METRICS_BY_SIGNAL


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mean_shift")
    rng = np.random.default_rng(3)
    for name, start, shift in (("ref", FIRE - timedelta(days=30), 0.0), ("prod", FIRE - timedelta(days=3), 0.4)):
        n = 400
        frame = pl.DataFrame({
            "ts": [start + timedelta(minutes=int(m)) for m in rng.integers(0, 2 * 24 * 60, size=n)],
            "a": rng.normal(shift, 1.0, size=n), "b": rng.normal(0.0, 1.0, size=n), "c": rng.normal(size=n),
            "w": rng.uniform(0.5, 2.0, size=n), "d": rng.normal(size=n),
        })
        if name == "prod":
            frame = frame.with_columns(region=pl.Series(rng.choice(["north", "south"], size=n)))
        (root / name).mkdir()
        frame.write_parquet(root / name / "part.parquet")
    return root


def _loaded(root: Path) -> LoadedMonitor:
    document = {"name": "shift", "trigger": {"type": "recurrence", "frequency": "day", "interval": 1},
                "create_monitor": {"monitoring_signals": {"drift": {"type": "data_drift", "production_data": {
                    "input_data": {"path": "prod/"}, "data_column_names": {"timestamp": "ts"}}}}}}
    return load_text(json.dumps(document), "shift.yaml", base_dir=root)


def _signal(features: Any = None) -> MeanShiftSignal:
    side = {"data_column_names": {"timestamp": "ts"}}
    return MeanShiftSignal.model_validate({
        "type": "mean_shift", "weight": "w", "features": features,
        "production_data": {"input_data": {"path": "prod/"}, "data_window": {"lookback_window_size": "P7D"}, **side},
        "reference_data": {"input_data": {"path": "ref/"}, "data_window": {"lookback_window_size": "P60D",
                                                                            "lookback_window_offset": "P7D"}, **side},
    })


def _expected(root: Path, feature: str) -> float:
    prod = pl.read_parquet(root / "prod" / "part.parquet")
    ref = pl.read_parquet(root / "ref" / "part.parquet")
    return abs(np.average(prod[feature], weights=prod["w"]) - np.average(ref[feature], weights=ref["w"]))


@pytest.mark.usefixtures("mean_shift")
def test_a_new_signal_type_plans_and_computes_through_its_record(data: Path, tmp_path: Path) -> None:
    plan = plan_signal("shift", _signal(), _loaded(data), FIRE, store=LocalStore(tmp_path))
    assert plan.error is None
    assert plan.options == {"weight": "w"}
    assert plan.features == ["a", "b", "c", "d"]  # common columns, minus the model's roles (ts, w)
    assert plan.thresholds == {"numerical": {"mean_shift": 0.25}}  # the record's default
    result = compute_signal(plan)
    assert result.status == "completed", result.error
    for f in ("a", "b", "c"):
        assert result.features[f].metrics["mean_shift"].value == pytest.approx(_expected(data, f), rel=1e-9)
    assert result.features["a"].metrics["mean_shift"].breached is True  # shifted by 0.4
    assert result.features["b"].metrics["mean_shift"].breached is False
    assert "read ['a', 'b', 'c', 'd', 'w']" in result.notes[0]  # the record's columns function


@pytest.mark.usefixtures("mean_shift")
def test_a_new_per_feature_type_splits_into_batches_that_merge_to_the_whole(data: Path, tmp_path: Path) -> None:
    plan = plan_signal("shift", _signal(["a", "b", "c"]), _loaded(data), FIRE, store=LocalStore(tmp_path))
    whole = compute_signal(plan)
    batches = [compute_signal(plan, features=["a", "b"]), compute_signal(plan, features=["c", "missing"])]
    merged = merge_batches("mean_shift", batches)
    assert set(merged.features) == {"a", "b", "c", "missing"}
    assert {f: merged.features[f] for f in "abc"} == whole.features
    assert merged.features["missing"].metrics["missing"].reason == "column `missing` is not in the production data"
    assert "read ['a', 'b', 'w']" in batches[0].notes[0]  # each batch reads only its own features


def test_the_record_decides_the_collector_collection(data: Path, monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    monkeypatch.setenv("MDC_ROOT", str(tmp_path / "mdc"))
    document = {"name": "shift", "trigger": {"type": "recurrence", "frequency": "day", "interval": 1},
                "create_monitor": {"monitoring_target": {"endpoint_deployment_id": "azureml:ep:blue"}}}
    loaded = load_text(json.dumps(document), "shift.yaml", base_dir=data)
    signal = MeanShiftSignal(type="mean_shift", weight="w")
    for collection in ("model_inputs", "model_outputs"):
        with registered(replace(MEAN_SHIFT, production_data=collection)):
            plan = plan_signal("shift", signal, loaded, FIRE)
        assert plan.production is not None
        assert plan.production.source == "mdc"
        assert plan.production.uri.endswith(f"/ep/blue/{collection}/")


@pytest.mark.parametrize("required", [True, False])
def test_the_record_decides_whether_the_reference_must_have_the_segment(data: Path, required: bool) -> None:
    """Only production has ``region``: a required segment fails, an optional one leaves the reference whole."""
    signal = _signal(["a"]).model_copy(update={"data_segment": DataSegment(feature_name="region",
                                                                            feature_values=["north"])})
    with registered(replace(MEAN_SHIFT, segment_on_reference=required)):
        result = compute_signal(plan_signal("shift", signal, _loaded(data), FIRE))
    if required:
        assert result.status == "failed"
        assert result.error == "data_segment column `region` is not in the reference data"
        return
    prod = pl.read_parquet(data / "prod" / "part.parquet").filter(pl.col("region") == "north")
    ref = pl.read_parquet(data / "ref" / "part.parquet")
    expected = abs(np.average(prod["a"], weights=prod["w"]) - np.average(ref["a"], weights=ref["w"]))
    assert result.features["a"].metrics["mean_shift"].value == pytest.approx(expected, rel=1e-9)
    assert result.features["a"].row_counts == {"production": prod.height, "reference": ref.height}
