"""Benchmark: false alarms and power of today's verdicts and of the significance gate (issue 12).

No drift: both windows from the same law, a fresh 100k-row reference per repetition, production of n
rows. Five laws: normal, lognormal, Poisson(3), 10 and 1000 Zipf categories (p_i proportional to 1/i).
Rules, one feature at a time (a signal of one feature):

- ``today``: the bare threshold of the issue's table (NWD > 0.1; PSI > 0.2 for lognormal; JSD > 0.1;
  and the unpooled chi-squared p < 0.05 for 1000 categories), i.e. ``significance=None``;
- ``gate``: the same threshold and metric with the default gate (alpha 0.01, Holm), as
  ``compute_drift`` runs it by default (chi-squared pooled).

Per run of 30 features, Holm across them: with no change anywhere, Holm alerts on a run exactly when its
smallest gated p-value is at most alpha / 30, so with independent features the per-run rate is
``1 - (1 - f)^30`` with ``f`` the cell's share of repetitions past the threshold with p <= alpha / 30
(printed with that count: at 200 repetitions a single such repetition reads as 14%).

Power (the same 100k reference size): 0.1 and 0.2 sigma mean shift and a 10% scale change of a normal,
5% of the mass of 10 Zipf categories moved from the first category to the last; rules: the default gate
(NWD > 0.1 or JSD > 0.1, gated), ``auto`` (threshold = null quantile, gated), KS p < 0.01, chi-squared
p < 0.01 (pooled).

Last, the gate's overhead: ``compute_drift`` on 1M rows x (20 numerical + 10 categorical) per side, as
``bench_run.py`` generates them, with ``significance=None`` and with the default, best of 3.

Usage: ``python bench/calibration.py [--reps 300] [--power-reps 100] [--workers 2] [--laws poisson ...]
[--skip-power] [--shifts "5% mass moved" ...] [--skip-overhead] [--chunk 100]`` (the seeds of a cell do not
depend on which laws or shifts run; each cell is drawn in chunks of ``--chunk`` repetitions, seeded by the
cell and the chunk index, so that two workers share the work evenly).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import polars as pl
from scipy import stats

from signals import metrics as m
from signals.drift import categorical_drift, compute_drift, numerical_drift
from signals.gate import DEFAULT_SIGNIFICANCE

SIZES = (50, 100, 500, 1000, 10_000, 100_000)
N_REF = 100_000
LAWS = ("normal", "lognormal", "poisson", "zipf10", "zipf1000")
TODAY = {"normal": ("normalized_wasserstein_distance", 0.1), "lognormal": ("population_stability_index", 0.2),
         "poisson": ("normalized_wasserstein_distance", 0.1), "zipf10": ("jensen_shannon_distance", 0.1),
         "zipf1000": ("jensen_shannon_distance", 0.1)}
SHIFTS = ("shift 0.1 sd", "shift 0.2 sd", "scale x1.1", "5% mass moved")
ALPHA = DEFAULT_SIGNIFICANCE.alpha
FEATURES = 30
#: Per run of FEATURES features the target is 5%: the per-feature rate at alpha / FEATURES that gives it.
RUN_TARGET = 1 - 0.95 ** (1 / FEATURES)


def _zipf(k: int, moved: float = 0.0) -> np.ndarray:
    p = 1 / np.arange(1, k + 1)
    p /= p.sum()
    p[0] -= moved
    p[-1] += moved
    return p


def draw(law: str, n: int, rng: np.random.Generator, *, shift: str | None = None) -> pl.Series:
    if law == "normal":
        loc = {"shift 0.1 sd": 0.1, "shift 0.2 sd": 0.2}.get(shift or "", 0.0)
        scale = 1.1 if shift == "scale x1.1" else 1.0
        return pl.Series("x", rng.normal(loc, scale, n))
    if law == "lognormal":
        return pl.Series("x", rng.lognormal(0, 1, n))
    if law == "poisson":
        return pl.Series("x", rng.poisson(3, n).astype(float))
    k = 10 if law == "zipf10" else 1000
    p = _zipf(k, 0.05 if shift else 0.0)
    return pl.Series("c", rng.choice(k, n, p=p).astype(str))


def no_drift_cell(args: tuple[str, int, int, int, int]) -> tuple[str, int, np.ndarray]:
    """Rows of (today breach, gate past threshold, gate p-value, chi2-unpooled breach) per repetition."""
    law, n, reps, seed, chunk = args
    rng = np.random.default_rng([seed, chunk])
    metric, threshold = TODAY[law]
    rows = []
    for _ in range(reps):
        ref, prod = draw(law, N_REF, rng), draw(law, n, rng)
        if law.startswith("zipf"):
            res = categorical_drift(ref, prod, thresholds={metric: threshold})
            joined = ref.value_counts().join(prod.value_counts(), on="c", how="full", coalesce=True).fill_null(0)
            chi2 = m.chi_squared_pvalue(joined["count"].to_numpy(), joined["count_right"].to_numpy())
        else:
            res = numerical_drift(ref, prod, thresholds={metric: threshold})
            chi2 = 1.0
        mr = res.metrics[metric]
        rows.append((bool(mr.past_threshold), bool(mr.past_threshold), mr.p_value, chi2 < 0.05))
    return law, n, np.array(rows, dtype=float)


def _below_alpha(pvalue: float | None) -> bool:
    """A p-value metric's bare verdict at alpha; no value (nothing to compare) is no alarm. A p-value of
    exactly 0.0 (an underflow at large n) is the strongest alarm, so no ``value or 1.0`` here."""
    return pvalue is not None and pvalue < ALPHA


def power_cell(args: tuple[str, int, int, int, int]) -> tuple[str, int, np.ndarray]:
    """Rows of (default gate, auto, KS or chi-squared at alpha) breaches per repetition."""
    shift, n, reps, seed, chunk = args
    rng = np.random.default_rng([seed, chunk])
    rows = []
    for _ in range(reps):
        if shift == "5% mass moved":
            ref, prod = draw("zipf10", N_REF, rng), draw("zipf10", n, rng, shift=shift)
            fixed = categorical_drift(ref, prod, thresholds={"jensen_shannon_distance": 0.1})
            auto = categorical_drift(ref, prod, thresholds={"jensen_shannon_distance": "auto"})
            rows.append((fixed.metrics["jensen_shannon_distance"].breached,
                         auto.metrics["jensen_shannon_distance"].breached,
                         _below_alpha(fixed.metrics["pearsons_chi_squared_test"].value)))
        else:
            ref, prod = draw("normal", N_REF, rng), draw("normal", n, rng, shift=shift)
            fixed = numerical_drift(ref, prod, thresholds={"normalized_wasserstein_distance": 0.1})
            auto = numerical_drift(ref, prod, thresholds={"normalized_wasserstein_distance": "auto"})
            rows.append((fixed.metrics["normalized_wasserstein_distance"].breached,
                         auto.metrics["normalized_wasserstein_distance"].breached,
                         _below_alpha(fixed.metrics["two_sample_kolmogorov_smirnov_test"].value)))
    return shift, n, np.array(rows, dtype=float)


def per_run_rate(rows: np.ndarray, *, features: int = FEATURES) -> tuple[float, int]:
    """Chance that a run of ``features`` independent no-change features alerts after Holm, and the count
    of repetitions behind it: Holm alerts iff some feature past its threshold has p <= alpha / features."""
    hits = int(np.sum((rows[:, 1] > 0) & (rows[:, 2] <= ALPHA / features)))
    return 1 - (1 - hits / len(rows)) ** features, hits


def _above(hits: int, reps: int, target: float) -> str:
    """`` *`` when ``hits`` of ``reps`` reject "the rate is at most ``target``" (one-sided exact binomial
    test at 5%), else nothing: a measured rate above the target that chance explains is not a miss."""
    return " *" if stats.binomtest(hits, reps, target, alternative="greater").pvalue < 0.05 else ""


def _chunks(reps: int, size: int) -> list[tuple[int, int]]:
    """(chunk index, repetitions) splitting ``reps`` into chunks of at most ``size`` (for the workers)."""
    return [(i, min(size, reps - start)) for i, start in enumerate(range(0, reps, size))]


def _gather(results: Iterator[tuple[str, int, np.ndarray]]) -> dict[tuple[str, int], np.ndarray]:
    cells: dict[tuple[str, int], list[np.ndarray]] = {}
    for key, n, rows in results:
        cells.setdefault((key, n), []).append(rows)
    return {cell: np.concatenate(parts) for cell, parts in cells.items()}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _table(title: str, header: list[str], body: list[list[str]]) -> None:
    print(f"\n{title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in body:
        print("| " + " | ".join(row) + " |")


def overhead(rows: int = 1_000_000) -> tuple[float, float]:
    """Best-of-3 seconds of ``compute_drift`` on bench_run.py's data without and with the gate."""
    rng = np.random.default_rng(1)
    cats = np.array([f"cat_{j:02d}" for j in range(25)])

    def side(shift: float) -> pl.DataFrame:
        cols: dict[str, object] = {f"n{i}": rng.normal(i, 1 + i / 10, rows) + (shift if i < 3 else 0)
                                   for i in range(20)}
        cols |= {f"c{i}": cats[rng.integers(0, 25 - i, rows)] for i in range(10)}
        return pl.DataFrame(cols)

    ref, prod = side(0.0), side(0.2)
    features = ref.columns
    kinds = {f: "numerical" if f.startswith("n") else "categorical" for f in features}
    thresholds = {"numerical": {"normalized_wasserstein_distance": 0.1},
                  "categorical": {"jensen_shannon_distance": 0.1}}
    times = []
    for significance in (None, DEFAULT_SIGNIFICANCE):
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            compute_drift(prod, ref, signal_type="data_drift", features=features, kinds=kinds,  # type: ignore[arg-type]
                          thresholds=thresholds, significance=significance)
            best = min(best, time.perf_counter() - start)
        times.append(best)
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--power-reps", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--laws", nargs="*", default=list(LAWS), choices=LAWS)
    parser.add_argument("--skip-power", action="store_true")
    parser.add_argument("--shifts", nargs="*", default=list(SHIFTS), choices=SHIFTS)
    parser.add_argument("--chunk", type=int, default=100, help="repetitions per task given to a worker")
    args = parser.parse_args()
    start = time.perf_counter()
    laws = [law for law in LAWS if law in args.laws]
    cells = [(law, n, reps, 1000 * LAWS.index(law) + j, chunk) for law in laws for j, n in enumerate(SIZES)
             for chunk, reps in _chunks(args.reps, args.chunk)]
    shifts = [(s, n, reps, 50_000 + 1000 * i + j, chunk)
              for i, s in enumerate(SHIFTS) for j, n in enumerate(SIZES)
              for chunk, reps in _chunks(args.power_reps, args.chunk)
              if s in args.shifts] if not args.skip_power else []
    with ProcessPoolExecutor(args.workers) as pool:  # the slowest cells first, so that no worker idles at the end
        null = _gather(pool.map(no_drift_cell, sorted(cells, key=lambda c: (c[0] != "zipf1000", -c[1]))))
        power = _gather(pool.map(power_cell, shifts))
    head = ["law", "rule", *[f"n={n:,}" for n in SIZES]]
    body = []
    for law in laws:
        metric, threshold = TODAY[law]
        short = {"normalized_wasserstein_distance": "NWD", "population_stability_index": "PSI",
                 "jensen_shannon_distance": "JSD"}[metric]
        body.append([law, f"today: {short} > {threshold}", *[_pct(null[law, n][:, 0].mean()) for n in SIZES]])
        hits = [int(((null[law, n][:, 1] > 0) & (null[law, n][:, 2] <= ALPHA)).sum()) for n in SIZES]
        gate = [f"{_pct(k / args.reps)} ({k}){_above(k, args.reps, ALPHA)}" for k in hits]
        body.append([law, f"gate: {short} > {threshold}, p <= {ALPHA} (count)", *gate])
        if law == "zipf1000":
            body.append([law, "today: chi-squared p < 0.05 (unpooled)",
                         *[_pct(null[law, n][:, 3].mean()) for n in SIZES]])
    _table(f"No drift, per feature ({args.reps} repetitions per cell)", head, body)
    run_body = []
    for law in laws:
        runs = [per_run_rate(null[law, n]) for n in SIZES]
        run_body.append([law, f"gate, {FEATURES} features, Holm",
                         *[f"{_pct(r)} ({k}){_above(k, args.reps, RUN_TARGET)}" for r, k in runs]])
    _table(f"No drift, per run of {FEATURES} features: 1 - (1 - f)^{FEATURES}, (count of the {args.reps} "
           f"repetitions with p <= {ALPHA}/{FEATURES})", head, run_body)
    print(f"\n`*`: the count rejects a rate at most {ALPHA:g} per feature (per run: {RUN_TARGET:.5f} per feature "
          f"at alpha/{FEATURES}, i.e. 5% per run) in a one-sided exact binomial test at 5%; with "
          f"{len(laws) * len(SIZES)} cells about {0.05 * len(laws) * len(SIZES):.1f} such marks per table "
          "come from chance alone when every true rate is on target")
    power_body = []
    for s in [] if args.skip_power else [s for s in SHIFTS if s in args.shifts]:
        other = "chi-squared" if s == "5% mass moved" else "KS"
        metric = "JSD" if s == "5% mass moved" else "NWD"
        for col, rule in enumerate((f"gate: {metric} > 0.1", f"auto: {metric}", f"{other} p < {ALPHA}")):
            power_body.append([s, rule, *[_pct(power[s, n][:, col].mean()) for n in SIZES]])
    if power_body:
        _table(f"Power, per feature ({args.power_reps} repetitions per cell, alpha {ALPHA})", head, power_body)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"\nsimulation: {time.perf_counter() - start:.0f} s wall, {children.ru_utime + children.ru_stime:.0f} CPU s "
          f"on {args.workers} workers, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if not args.skip_overhead:
        off, on = overhead()
        print(f"\ncompute_drift 1M x 30: gate off {off:.2f} s, gate on {on:.2f} s, ratio {on / off:.3f} "
              f"(load average {' '.join(f'{x:.1f}' for x in os.getloadavg())})")


if __name__ == "__main__":
    main()
