"""Side-by-side summary statistics of a feature, so a report shows *why* a metric moved.

Numerical: non-null count, nulls, mean, std, p5/p50/p95, min/max, the sample skewness, and counts on
20 bins at the reference's quantiles (each bin holds about 5% of the reference; the outer bins are open,
so production values beyond the reference's range land there). Categorical: the top categories by the
larger of the two shares, every other category summed, and the production categories the reference never
had ("new"), named.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from signals.results import FeatureResult, SignalResult

#: Quantile bins of the numerical profile.
QUANTILE_BINS = 20
#: Categories listed one by one (top, and new ones).
TOP_CATEGORIES = 10
#: Above this absolute sample skewness a numerical feature is drawn on quantile bins.
SKEWED = 1.0


def _sides(reference: Any, production: Any) -> dict[str, Any]:
    return {"reference": reference, "production": production}


def _numbers(series: pl.Series) -> np.ndarray:
    values = series.drop_nulls().cast(pl.Float64).to_numpy()
    return values[np.isfinite(values)]


def _describe(values: np.ndarray) -> dict[str, float | None]:
    if values.size == 0:
        return dict.fromkeys(("mean", "std", "min", "p5", "p50", "p95", "max"))
    p5, p50, p95 = np.quantile(values, [0.05, 0.5, 0.95])
    return {"mean": float(values.mean()), "std": float(values.std(ddof=1)) if values.size > 1 else None,
            "min": float(values.min()), "p5": float(p5), "p50": float(p50), "p95": float(p95),
            "max": float(values.max())}


def numerical_profile(reference: pl.Series, production: pl.Series) -> dict[str, Any]:
    """Statistics of both sides and their counts on the reference's quantile bins."""
    ref, prod = _numbers(reference), _numbers(production)
    described = {"reference": _describe(ref), "production": _describe(prod)}
    out: dict[str, Any] = {"kind": "numerical",
                           "count": _sides(int(ref.size), int(prod.size)),
                           "nulls": _sides(reference.null_count(), production.null_count())}
    for stat in ("mean", "std", "min", "p5", "p50", "p95", "max"):
        out[stat] = _sides(described["reference"][stat], described["production"][stat])
    skew = float(stats.skew(ref)) if ref.size > 2 and np.ptp(ref) > 0 else 0.0
    out["skewness"] = skew if np.isfinite(skew) else None
    if ref.size:
        inner = np.unique(np.quantile(ref, np.linspace(0, 1, QUANTILE_BINS + 1))[1:-1])
        out["quantile_bins"] = {
            "inner_edges": inner.tolist(),
            "reference": np.bincount(np.searchsorted(inner, ref, side="right"), minlength=inner.size + 1).tolist(),
            "production": np.bincount(np.searchsorted(inner, prod, side="right"), minlength=inner.size + 1).tolist(),
        }
    return out


def categorical_profile(reference: pl.Series, production: pl.Series) -> dict[str, Any]:
    """Top categories of both sides with their counts, the rest summed, and the new categories named."""
    counts = {side: dict(s.drop_nulls().cast(pl.String).value_counts().iter_rows())
              for side, s in (("reference", reference), ("production", production))}
    totals = {side: sum(c.values()) or 1 for side, c in counts.items()}
    share = {k: max(counts["reference"].get(k, 0) / totals["reference"], counts["production"].get(k, 0) /
                    totals["production"]) for k in counts["reference"].keys() | counts["production"].keys()}
    top = sorted(share, key=lambda k: (-share[k], k))[:TOP_CATEGORIES]
    new = sorted((k for k in counts["production"] if k not in counts["reference"]),
                 key=lambda k: (-counts["production"][k], k))
    return {
        "kind": "categorical",
        "count": _sides(sum(counts["reference"].values()), sum(counts["production"].values())),
        "nulls": _sides(reference.null_count(), production.null_count()),
        "distinct": _sides(len(counts["reference"]), len(counts["production"])),
        "top": [{"category": k, "reference": counts["reference"].get(k, 0),
                 "production": counts["production"].get(k, 0)} for k in top],
        "other": _sides(sum(v for k, v in counts["reference"].items() if k not in top),
                        sum(v for k, v in counts["production"].items() if k not in top)),
        "new": [{"category": k, "production": counts["production"][k]} for k in new[:TOP_CATEGORIES]],
        "new_total": _sides(0, sum(counts["production"][k] for k in new)),
    }


def attach_profiles(result: SignalResult, production: pl.DataFrame, reference: pl.DataFrame) -> SignalResult:
    """``result`` with ``details["profile"]`` on each numerical or categorical feature both frames hold."""
    features: dict[str, FeatureResult] = {}
    for name, fr in result.features.items():
        if fr.kind not in ("numerical", "categorical") or name not in production.columns or \
                name not in reference.columns:
            features[name] = fr
            continue
        make = numerical_profile if fr.kind == "numerical" else categorical_profile
        try:
            profile = make(reference[name], production[name])
        except (pl.exceptions.PolarsError, ValueError, TypeError):  # a profile is an extra: never fail for it
            features[name] = fr
            continue
        features[name] = fr.model_copy(update={"details": {**(fr.details or {}), "profile": profile}})
    return result.model_copy(update={"features": features})


__all__ = ["QUANTILE_BINS", "SKEWED", "TOP_CATEGORIES", "attach_profiles", "categorical_profile",
           "numerical_profile"]
