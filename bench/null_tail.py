"""Benchmark: the far tail of the sparse-table permutation null against a large exact permutation sample.

Holm across m features needs p-values near alpha / m (3.3e-4 for 30 features at alpha 0.01), far below
the 1/1001 that 1000 permutation tables can count, so ``signals.nulls`` reads them from a Pearson III
law fitted to the tables' first three moments. This checks that tail where it matters: for pooled
tables of a reference of 100,000 rows and a production of n rows drawn from the same law, it fits the
null as a table that did not stop early does (``table_nulls(..., sequential=False)``: all 1000 tables)
and finds the JS distance whose p-value is the level (``MomentNull.pvalue``, as the gate reads it, with
its ``TAIL_SAFETY`` beyond the last replicate; ``--bare-fit`` takes the fitted quantile instead, the tail
without it); then it draws ``--tables`` exact permutation tables with numpy's multivariate hypergeometric
sampler (independent of the project's sampler) and counts how often the JS distance reaches that cut. A
ratio above 1 means the p-values there are too small (anti-conservative).

Laws: ``zipf1000`` (1000 categories, p_i proportional to 1/i) and ``normal`` binned by Sturges' equal-width
edges (sparse tail bins). Usage: ``python bench/null_tail.py [--law zipf1000] [--sizes 100 1000]
[--samples 8] [--tables 60000] [--levels 0.001 0.000333] [--bare-fit]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import optimize

from signals import metrics as m
from signals.metrics import jensen_shannon_rows
from signals.nulls import MomentNull, table_nulls

N_REF = 100_000


def pooled_table(law: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Reference and production counts of one no-change draw, empty cells dropped."""
    if law == "zipf1000":
        p = 1 / np.arange(1, 1001)
        p /= p.sum()
        ref, prod = (np.bincount(rng.choice(1000, size, p=p), minlength=1000) for size in (N_REF, n))
    else:
        ref_x, prod_x = np.sort(rng.normal(size=N_REF)), np.sort(rng.normal(size=n))
        edges = m.sturges_edges(ref_x, prod_x)
        ref, prod = m.bin_counts(ref_x, edges), m.bin_counts(prod_x, edges)
    keep = (ref + prod) > 0
    return ref[keep], prod[keep]


def decision_cut(null: MomentNull, level: float) -> float:
    """The JS distance at which the null's p-value falls to ``level`` (it decreases with the distance)."""
    high = null.quantile(1 - level / 100)
    while null.pvalue(high) > level:
        high *= 2
    return float(optimize.brentq(lambda v: null.pvalue(v) - level, 0.0, high, xtol=1e-12))


def exact_tail(pooled: np.ndarray, n: int, cuts: np.ndarray, tables: int, rng: np.random.Generator) -> np.ndarray:
    """How many of ``tables`` exact permutation tables have a JS distance at least each of ``cuts``."""
    hits = np.zeros(len(cuts), dtype=np.int64)
    for start in range(0, tables, 5000):
        prod = rng.multivariate_hypergeometric(pooled, n, size=min(5000, tables - start))
        hits += (jensen_shannon_rows(pooled - prod, prod)[:, None] >= cuts[None, :]).sum(axis=0)
    return hits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--law", choices=("zipf1000", "normal"), default="zipf1000")
    parser.add_argument("--sizes", type=int, nargs="*", default=[50, 100, 1000, 10_000])
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--tables", type=int, default=60_000)
    parser.add_argument("--levels", type=float, nargs="*", default=[0.001, 0.01 / 30])
    parser.add_argument("--bare-fit", action="store_true", help="cut at the fitted quantile (no tail safety)")
    args = parser.parse_args()
    start = time.perf_counter()
    print("| law | n | level | sparse samples | exact tail at the cut (mean of samples) | ratio |")
    print("|---|---|---|---|---|---|")
    for n in args.sizes:
        rng = np.random.default_rng([7, n])
        tails: dict[float, list[float]] = {level: [] for level in args.levels}
        for sample in range(args.samples):
            ref, prod = pooled_table(args.law, n, rng)
            null = table_nulls(ref, prod, seed=sample, sequential=False)["jensen_shannon_distance"]
            if null.method != "permutation":
                continue
            cuts = np.array([null.quantile(1 - level) if args.bare_fit else decision_cut(null, level)
                             for level in args.levels])
            for level, hits in zip(args.levels, exact_tail(ref + prod, n, cuts, args.tables, rng), strict=True):
                tails[level].append(hits / args.tables)
        for level, rates in tails.items():
            if rates:
                mean = float(np.mean(rates))
                print(f"| {args.law} | {n:,} | {level:.6f} | {len(rates)} | {mean:.6f} | {mean / level:.2f} |",
                      flush=True)
    print(f"\n{time.perf_counter() - start:.0f} s, {args.tables:,} exact tables per sample ")


if __name__ == "__main__":
    main()
