"""A seeded fraud-detection dataset with drift injected, for the demo and the tests.

Writes ``training/`` (the baseline the model was trained on, with labels and the model's scores),
``production/yyyy/MM/dd/`` (two weeks of daily parquet, scored by the same model, each row with a
``correlation_id``) and ``ground_truth/labels.parquet`` (the fraud labels that came back for some of the
production rows, keyed by ``correlation_id``). In the last seven days three inputs drift on purpose
(``amount`` scales up, ``merchant_category`` shifts to online, a new ``device_type`` appears) and the fraud
score follows; every other column keeps its distribution, so a correct drift monitor flags exactly those.
One data quality problem is injected too: the day before the fire time, an upstream join lost
``credit_limit`` for 40% of the rows (nulls: a quality problem, not drift, as the values that are there keep
their distribution).

Run ``python -m monitoring.demo.fraud_data OUT`` to write the files.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

DRIFTED_FEATURES = ("amount", "merchant_category", "device_type")
#: The column (and day, counted back from the end) that loses values, and the share it loses.
NULL_COLUMN, NULL_DAY, NULL_SHARE = "credit_limit", 2, 0.4
STABLE_FEATURES = ("account_age_days", "num_items", "state", "is_foreign", "distance_from_home",
                   "credit_limit", "hour_of_day")
MERCHANTS = ("grocery", "electronics", "travel", "fashion", "online_services", "restaurants", "fuel")
STATES = ("CA", "WA", "NY", "TX", "FL", "IL", "OR", "NV")
DEVICES = ("ios", "android", "web")


@dataclass(frozen=True)
class DemoData:
    training: Path
    production: Path
    start: datetime
    end: datetime
    ground_truth: Path | None = None


def _frame(rng: np.random.Generator, n: int, start: datetime, span: timedelta, *, drift: bool) -> pl.DataFrame:
    amount = rng.lognormal(mean=3.6, sigma=0.9, size=n) * (1.6 if drift else 1.0)
    merchant_p = np.array([0.25, 0.12, 0.08, 0.15, 0.1, 0.2, 0.1])
    if drift:
        merchant_p = np.array([0.15, 0.12, 0.08, 0.12, 0.35, 0.12, 0.06])
    devices = DEVICES + (("smart_tv",) if drift else ())
    device_p = np.array([0.3, 0.22, 0.18, 0.3]) if drift else np.array([0.45, 0.35, 0.2])
    distance = rng.gamma(2.0, 15.0, size=n)
    distance[rng.random(n) < 0.05] = np.nan  # a null-bearing column (5% missing on both sides)
    frame = pl.DataFrame({
        "transaction_id": [f"tx-{start:%Y%m%d%H}-{i:06d}" for i in range(n)],
        "correlation_id": [f"req-{start:%Y%m%d%H}-{i:06d}" for i in range(n)],
        "timestamp": [start + span * (i / n) for i in range(n)],
        "amount": amount.round(2),
        "account_age_days": rng.integers(1, 3650, size=n),
        "num_items": rng.integers(1, 8, size=n),
        "merchant_category": rng.choice(MERCHANTS, size=n, p=merchant_p / merchant_p.sum()),
        "state": rng.choice(STATES, size=n),
        "device_type": rng.choice(devices, size=n, p=device_p / device_p.sum()),
        "is_foreign": rng.random(n) < 0.07,
        "distance_from_home": pl.Series(distance).fill_nan(None),
        "credit_limit": rng.normal(8000, 2500, size=n).clip(500, None).round(0),
        "hour_of_day": rng.integers(0, 24, size=n),
    })
    logit = (-4.2 + 0.012 * (frame["amount"].to_numpy() - 40) + 1.1 * frame["is_foreign"].to_numpy()
             + 0.6 * (frame["merchant_category"] == "online_services").to_numpy()
             + 0.4 * (frame["device_type"] == "web").to_numpy())
    score = 1 / (1 + np.exp(-np.clip(logit, -30, 30)))
    label = rng.random(n) < score
    return frame.with_columns(
        pl.Series("is_fraud", label.astype(np.int8)),
        pl.Series("fraud_score", score.round(6)),
        pl.Series("predicted_fraud", (score >= 0.5).astype(np.int8)),
    ).with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"))


def _with_nulls(frame: pl.DataFrame, column: str, rng: np.random.Generator, *, share: float) -> pl.DataFrame:
    """``frame`` with a seeded ``share`` of ``column``'s values set to null."""
    lost = pl.Series(rng.random(frame.height) < share)
    return frame.with_columns(pl.when(lost).then(None).otherwise(pl.col(column)).alias(column))


def write_ground_truth(production: Path, out: Path, *, share: float = 0.6, seed: int = 7) -> Path:
    """Labels for a seeded ``share`` of the production rows: ``correlation_id`` and ``is_fraud``.

    Labels come back for some predictions only (chargebacks, reviews), so the model performance signal
    joins on ``correlation_id`` and reports the coverage.
    """
    rng = np.random.default_rng(seed)
    files = sorted(production.rglob("*.parquet"))
    rows = pl.concat([pl.read_parquet(f, columns=["correlation_id", "is_fraud"]) for f in files])
    labels = rows.filter(pl.Series(rng.random(rows.height) < share))
    out.mkdir(parents=True, exist_ok=True)
    path = out / "labels.parquet"
    labels.write_parquet(path)
    return path


def generate(out: Path, *, end: datetime, days: int = 14, rows_per_day: int = 3000, training_rows: int = 50_000,
             drift_days: int = 7, seed: int = 20231) -> DemoData:
    """Write the training baseline, ``days`` days of production ending at ``end`` (exclusive) and the
    ground truth of some of the production rows."""
    rng = np.random.default_rng(seed)
    end = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0, hour=0) + timedelta(days=1) \
        if end.astimezone(UTC).time() != datetime.min.time() else end.astimezone(UTC)
    start = end - timedelta(days=days)
    training_dir, production_dir = out / "training", out / "production"
    training_dir.mkdir(parents=True, exist_ok=True)
    train = _frame(rng, training_rows, start - timedelta(days=90), timedelta(days=60), drift=False)
    train.write_parquet(training_dir / "training.parquet")
    for d in range(days):
        day = start + timedelta(days=d)
        drift = d >= days - drift_days
        folder = production_dir / f"{day:%Y/%m/%d}"
        folder.mkdir(parents=True, exist_ok=True)
        n = int(rows_per_day * (1 + 0.1 * math.sin(d)))
        frame = _frame(rng, n, day, timedelta(days=1), drift=drift)
        if d == days - NULL_DAY:
            frame = _with_nulls(frame, NULL_COLUMN, np.random.default_rng(seed + d), share=NULL_SHARE)
        frame.write_parquet(folder / "scored.parquet")
    labels = write_ground_truth(production_dir, out / "ground_truth", seed=seed + 1)
    return DemoData(training_dir, production_dir, start, end, ground_truth=labels.parent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--end", type=datetime.fromisoformat, default=datetime.now(UTC))
    args = parser.parse_args()
    data = generate(args.out, end=args.end)
    print(f"wrote {data.training}, {data.production} ({data.start:%Y-%m-%d} .. {data.end:%Y-%m-%d}) and "
          f"{data.ground_truth}")


if __name__ == "__main__":
    main()
