"""The Python API: run a monitor definition, or one signal, over in-memory frames from a notebook or script.

No schedule and no files: the frames are registered under ``memory://`` URIs that the definition's
datasets point at, and the run goes through the same plan, compute and result documents as a scheduled
run. Frames are compared whole (no data windows are applied to them)::

    >>> import polars as pl
    >>> from monitoring.interfaces.api import run_signal
    >>> ref = pl.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 50})
    >>> result = run_signal("data_drift", reference=ref, production=ref.with_columns(pl.col("x") * 3),
    ...                     metric_thresholds={"numerical": {"normalized_wasserstein_distance": 0.1}})
    >>> result.breached, result.status
    (True, 'completed')
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import polars as pl
from ruamel.yaml import YAML

from monitoring.data.memory import registered
from monitoring.definition import InputData, LoadedMonitor, MonitoringInput, load_text, parse_yaml
from monitoring.errors import ConfigurationError
from monitoring.results.documents import build_run, signal_document
from monitoring.results.overview import write_overview
from monitoring.results.report import render_report, write_report
from monitoring.run.compute import compute_signal
from monitoring.run.finish import finalize_run
from monitoring.run.plan import RunPlan, plan_run
from monitoring.storage.local import LocalStore
from signals.results import SignalResult

#: The trigger given to a definition that has none: the API never schedules, but the model requires one.
_NO_TRIGGER = {"type": "recurrence", "frequency": "day", "interval": 1}
_ASSET = "funcmon-frame-"

Frame = Any  # a polars DataFrame or LazyFrame, or a pandas DataFrame


@dataclass(frozen=True)
class MonitorResult:
    """A finished run: run.json (``run``), each signal's document and typed result, and the plan."""

    run: dict[str, Any]
    documents: dict[str, dict[str, Any]]
    results: dict[str, SignalResult]
    plan: RunPlan

    @property
    def breached(self) -> bool:
        """True when an alert-enabled signal breached (what would send an alert)."""
        return bool(self.run["breached"])

    @property
    def status(self) -> str:
        return str(self.run["status"])

    def metrics(self) -> pl.DataFrame:
        """One row per signal, feature and metric: value, threshold and verdict."""
        rows = [{"signal": name, "feature": feature, "metric": metric, "value": m["value"],
                 "threshold": m["threshold"], "breached": m["breached"]}
                for name, sig in self.run["signals"].items() for feature, fr in sig["features"].items()
                for metric, m in fr["metrics"].items()]
        schema = {"signal": pl.String, "feature": pl.String, "metric": pl.String, "value": pl.Float64,
                  "threshold": pl.Float64, "breached": pl.Boolean}
        return pl.DataFrame(rows, schema=schema)

    def to_dict(self) -> dict[str, Any]:
        """run.json with each signal's full document (histograms, statistics) under ``documents``."""
        return {**self.run, "documents": self.documents}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def report(self) -> str:
        """The run's HTML report (one self-contained page)."""
        return render_report(self.run, self.documents)

    def save(self, directory: str | Path) -> Path:
        """Write the run as a scheduled run writes it (run.json, signal documents, history, report.html and
        the monitor's index.html) under ``directory/<monitor>/<run ID>/``; return that folder."""
        store = LocalStore(directory)
        run = finalize_run(self.plan, self.results, store)
        write_report(store, self.plan.prefix, run)
        write_overview(store, self.plan.monitor)
        return Path(directory) / self.plan.prefix

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{escape(self.report(), quote=True)}" style="width:100%;height:640px;'
                'border:1px solid #ddd"></iframe>')

    def __repr__(self) -> str:
        signals = ", ".join(f"{n}: {s['status']}{' BREACHED' if s['breached'] else ''}"
                            for n, s in self.run["signals"].items())
        return f"MonitorResult({self.run['monitor']}, {self.status}, breached={self.breached}; {signals})"


def _polars(frame: Frame, what: str) -> pl.DataFrame:
    if isinstance(frame, pl.DataFrame):
        return frame
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    if type(frame).__module__.startswith("pandas"):
        return pl.from_pandas(frame)
    raise ConfigurationError(f"`{what}` must be a polars or pandas DataFrame, not {type(frame).__name__}")


def _definition_text(definition: str | Path | Mapping[str, Any]) -> tuple[str, str, Path | None]:
    """(YAML text, source name, base folder) of a definition given as a mapping, a file or YAML text."""
    if isinstance(definition, Mapping):
        buffer = io.StringIO()
        YAML(typ="safe", pure=True).dump(json.loads(json.dumps(dict(definition))), buffer)
        return buffer.getvalue(), "<dict>", None
    if isinstance(definition, Path) or ("\n" not in definition and definition.endswith((".yaml", ".yml"))):
        path = Path(definition)
        return path.read_text(), str(path), path.resolve().parent
    return definition, "<text>", None


def _with_defaults(text: str, source: str) -> str:
    """The definition with a ``name`` and a ``trigger`` added when missing (appended, so lines stay put)."""
    root = parse_yaml(text, source)
    if not isinstance(root, dict) or ("trigger" in root and "name" in root):
        return text
    extra: dict[str, Any] = {}
    if "name" not in root:
        extra["name"] = "notebook"
    if "trigger" not in root:
        extra["trigger"] = _NO_TRIGGER
    buffer = io.StringIO()
    YAML(typ="safe", pure=True).dump(extra, buffer)
    return text.rstrip("\n") + "\n" + buffer.getvalue()


def _side(current: MonitoringInput | None, frames: Mapping[str, str], default: str | None) -> MonitoringInput | None:
    """A dataset that names one of ``frames`` (by its path) or has no path, pointed at that frame's asset."""
    path = current.input_data.path if current and current.input_data else None
    key = path if path in frames else default if path is None else None
    if key is None or key not in frames:
        return current
    data = InputData(path=f"azureml:{_ASSET}{frames[key]}")
    return (current or MonitoringInput()).model_copy(update={"input_data": data})


def _attach(loaded: LoadedMonitor, frames: Mapping[str, str]) -> LoadedMonitor:
    """The monitor with every signal's datasets pointed at the frames: a dataset without ``input_data``
    reads ``production``/``reference``, one whose path is a key of ``data`` reads that frame."""
    signals = {}
    for name, sig in loaded.schedule.signals().items():
        signals[name] = sig.model_copy(update={
            "production_data": _side(sig.production_data, frames, "production"),
            "reference_data": _side(sig.reference_data, frames, "reference"),
        })
    monitor = loaded.schedule.create_monitor.model_copy(update={"monitoring_signals": signals})
    return dataclasses.replace(loaded, schedule=loaded.schedule.model_copy(update={"create_monitor": monitor}))


def run_monitor(definition: str | Path | Mapping[str, Any], *, reference: Frame | None = None,
                production: Frame | None = None, data: Mapping[str, Frame] | None = None,
                fire_time: datetime | None = None) -> MonitorResult:
    """Run every signal of a monitor definition (YAML text, a YAML file, or a mapping) over frames.

    A signal's ``production_data``/``reference_data`` without ``input_data`` reads ``production``/
    ``reference``; a dataset whose ``path`` is a key of ``data`` reads that frame (e.g. ground truth).
    ``trigger`` and ``name`` may be left out. Nothing is written and no alert is sent.
    """
    text, source, base_dir = _definition_text(definition)
    loaded = load_text(_with_defaults(text, source), source, base_dir=base_dir)
    frames = {key: _polars(frame, key) for key, frame in (data or {}).items()}
    for key, frame in (("production", production), ("reference", reference)):
        if frame is not None:
            frames[key] = _polars(frame, key)
    names = {key: f"{i}" for i, key in enumerate(frames)}
    fire_time = (fire_time or datetime.now(UTC)).replace(microsecond=0)
    started = datetime.now(UTC)
    with registered({names[k]: f for k, f in frames.items()}) as uris:
        assets = {f"{_ASSET}{names[k]}": uris[names[k]] for k in frames}
        plan = plan_run(_attach(loaded, names), fire_time, asset_map=assets)
        for sp in plan.signals:  # frames are compared whole: record no window
            for side in ("production", "reference"):
                ref = getattr(sp, side)
                if ref is not None and ref.uri in uris.values():
                    setattr(sp, side, ref.model_copy(update={"window": {}}))
        results = {sp.name: compute_signal(sp) for sp in plan.signals}
    contexts = {sp.name: sp.context() for sp in plan.signals}
    run = build_run(monitor=plan.monitor, fire_time=plan.fire_time, definition_version=plan.definition_version,
                    signals={n: (r, contexts[n]) for n, r in results.items()}, started_at=started)
    documents = {n: signal_document(n, r, contexts[n]) for n, r in results.items()}
    return MonitorResult(run=run, documents=documents, results=results, plan=plan)


def run_signal(signal: str | Mapping[str, Any], *, reference: Frame, production: Frame, name: str | None = None,
               **fields: Any) -> MonitorResult:
    """Run one signal, given by its type (``"data_drift"``) or its YAML mapping, over two frames.

    ``fields`` are the signal's other keys (``features``, ``metric_thresholds``, ``data_column_names``
    of a side through ``production_data``/``reference_data``...), as in the YAML.
    """
    spec = {"type": signal} if isinstance(signal, str) else dict(signal)
    spec |= fields
    name = name or str(spec["type"]).replace("_", "-")
    definition = {"name": "notebook", "trigger": _NO_TRIGGER,
                  "create_monitor": {"monitoring_signals": {name: spec}}}
    return run_monitor(definition, reference=reference, production=production)


__all__ = ["MonitorResult", "run_monitor", "run_signal"]
