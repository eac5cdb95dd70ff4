"""Drift: does a batch of new rows still look like the training data (a version's reference profile)?

Per column, a two-sample test that fits the column and allows for the batch size, so false alarms stay at the
chosen rate however small the batch: numbers with many distinct values get the Cramér-von Mises test against
the profile's seeded sample of training values; categories, yes/no and numbers with few distinct values get a
chi-square test of the category shares, with categories too rare for this batch size pooled so the test stays
valid; a change in the share of missing values is tested too (Fisher's exact test). The p-values of all
columns are corrected together (Benjamini-Hochberg), so a wide table does not raise alarms by its width.

Each verdict comes with an effect size (a mean shift in training standard deviations, or the largest change of
a category's share) and the smallest effect this batch size could have detected (80% power at the corrected
level): "with 120 rows, only shifts above 0.35 standard deviations would show".

Only numpy, pandas and scipy: a served bundle carries this module for its GET /monitor."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

ALPHA = 0.05  # false alarms per column with no drift
POWER = 0.8  # the power at which the smallest detectable effect is stated
FEW_VALUES = 20  # numbers with at most this many distinct values are tested as categories
MIN_EXPECTED = 5.0  # expected count per category below which categories are pooled for the chi-square test
KS_EFFICIENCY = 2 / math.pi  # Kolmogorov-Smirnov's efficiency against a t-test for a mean shift (normal data)
MAX_BATCH_VALUES = 20_000  # a larger batch is tested on a seeded sample of its values (the test stays exact)


@dataclass
class ColumnDrift:
    """The verdict on one column."""

    column: str
    kind: str  # "numeric" or "categorical" (how it was tested)
    n: int  # values in the batch (not missing)
    p_value: float
    p_adjusted: float = 1.0
    drifted: bool = False
    effect: float = 0.0  # numeric: mean shift in training sd; categorical: largest change of a share (0-1)
    detectable: float | None = None  # the smallest effect this batch could show (same unit)
    reference_mean: float | None = None
    batch_mean: float | None = None
    shares: dict[str, list[float]] = field(default_factory=dict)  # category: [training share, batch share]
    new_categories: list[str] = field(default_factory=list)
    missing: tuple[float, float] = (0.0, 0.0)  # share missing: training, batch
    missing_changed: bool = False
    below: int = 0  # values below the training minimum
    above: int = 0  # values above the training maximum
    unreadable: int = 0  # values that are not numbers in a column of numbers
    importance: float | None = None  # the model's own share of importance for this column (SHAP), if known
    weight: float = 0.0  # drift weighted by importance: how much it matters (used for ranking)
    problem: str = ""  # why the column could not be tested ("empty": no rows; "not_numbers": text for numbers)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["missing"] = list(self.missing)
        return {k: _finite(v) for k, v in data.items()}


@dataclass
class DriftReport:
    """Every column's verdict, ranked by drift weighted by importance, and the prediction's own drift."""

    rows: int
    columns: list[ColumnDrift]
    prediction: ColumnDrift | None = None
    alpha: float = ALPHA
    missing_columns: list[str] = field(default_factory=list)  # in training, not in the batch
    extra_columns: list[str] = field(default_factory=list)  # in the batch, not in training

    @property
    def drifted(self) -> list[ColumnDrift]:
        return [c for c in self.columns if c.drifted]

    @property
    def alarm(self) -> bool:
        return bool(self.drifted) or bool(self.prediction and self.prediction.drifted)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "alpha": self.alpha, "alarm": self.alarm,
                "drifted": [c.column for c in self.drifted],
                "prediction": self.prediction.to_dict() if self.prediction else None,
                "missing_columns": self.missing_columns, "extra_columns": self.extra_columns,
                "columns": [c.to_dict() for c in self.columns]}


def drift_report(profile: dict[str, Any], batch: pd.DataFrame, importance: dict[str, float] | None = None,
                 prediction: tuple[dict[str, Any], pd.Series] | None = None, alpha: float = ALPHA,
                 seed: int = 0) -> DriftReport:
    """Compare a batch with a reference profile (deploy.versions.reference_profile), column by column.

    `importance` (column: share of the model's importance) weights the ranking; `prediction` is the profile of
    the model's predictions on its held-out rows and its predictions on the batch."""
    rng = np.random.default_rng(seed)
    target = profile.get("target")
    reference = {name: spec for name, spec in profile["columns"].items() if name != target}
    results: list[ColumnDrift] = []
    for name, spec in reference.items():
        if name not in batch.columns:
            continue
        results.append(column_drift(name, spec, batch[name], rng))
    _correct([r for r in results if not r.problem], alpha)
    weights = _normalised(importance or {})
    for r in results:
        r.importance = weights.get(r.column) if weights else None
        strength = -math.log10(max(r.p_adjusted, 1e-300)) if r.drifted else 0.0
        r.weight = strength * (r.importance if r.importance is not None else 1.0)
    results.sort(key=lambda r: (-r.weight, r.p_adjusted, r.column))
    predicted = None
    if prediction is not None:
        spec, values = prediction
        predicted = column_drift("prediction", spec, values, rng)
        _correct([predicted] if not predicted.problem else [], alpha)
    return DriftReport(int(len(batch)), results, predicted, alpha,
                       [n for n in reference if n not in batch.columns],
                       [str(c) for c in batch.columns if c not in reference and c != target])


def column_drift(name: str, spec: dict[str, Any], values: pd.Series, rng: np.random.Generator) -> ColumnDrift:
    """One column of a batch against its reference profile (uncorrected p-value)."""
    present = values.dropna()
    n_missing_batch, n_batch = int(len(values) - len(present)), int(len(values))
    n_ref_missing, n_ref = int(spec.get("missing", 0)), int(spec.get("n", 0)) + int(spec.get("missing", 0))
    missing = (n_ref_missing / n_ref if n_ref else 0.0, n_missing_batch / n_batch if n_batch else 0.0)
    p_missing = 1.0
    if (n_ref_missing or n_missing_batch) and n_batch:
        p_missing = float(stats.fisher_exact([[n_ref_missing, n_ref - n_ref_missing],
                                              [n_missing_batch, n_batch - n_missing_batch]])[1])
    if present.empty:
        out = ColumnDrift(name, spec["kind"], 0, p_missing, missing=missing, problem="" if n_batch else "empty")
        if n_batch:  # every value missing: only the missing share can be tested
            out.missing_changed = True
        return out
    if spec["kind"] == "numeric":
        numbers = pd.to_numeric(present, errors="coerce").dropna().to_numpy(dtype=float)
        sample = np.asarray(spec.get("sample", []), dtype=float)
        if not len(numbers):  # text where training had numbers: nothing to compare
            return ColumnDrift(name, "numeric", 0, 1.0, missing=missing, unreadable=int(len(present)),
                               problem="not_numbers")
        if len(sample) and len(np.unique(sample)) > FEW_VALUES:
            out = _numeric(name, spec, sample, numbers, rng)
        else:  # few distinct values: their counts, from the reference sample
            counts = pd.Series(sample).value_counts()
            out = _categorical(name, {"counts": {_key(k): int(v) for k, v in counts.items()}, "other": 0},
                               pd.Series(numbers).map(_key))
            _ranges(out, spec, numbers)
        out.unreadable = int(len(present) - len(numbers))
    else:
        out = _categorical(name, spec, present.map(as_text))
    out.missing = missing
    if not math.isfinite(out.p_value):  # a test with too few values to say anything (one row, one category)
        out.p_value = 1.0
    if p_missing < 1.0:  # two tests on the column: both count (Bonferroni within the column)
        out.missing_changed = p_missing < ALPHA / 2
        out.p_value = min(1.0, 2 * min(out.p_value, p_missing))
    return out


def _numeric(name: str, spec: dict[str, Any], sample: np.ndarray, numbers: np.ndarray,
             rng: np.random.Generator) -> ColumnDrift:
    tested = numbers if len(numbers) <= MAX_BATCH_VALUES else rng.choice(numbers, MAX_BATCH_VALUES, replace=False)
    p = float(stats.ks_2samp(sample, tested).pvalue)
    mean = spec.get("mean") if spec.get("mean") is not None else float(sample.mean())
    sd = spec.get("std") or float(sample.std(ddof=1)) or 1.0
    out = ColumnDrift(name, "numeric", int(len(numbers)), p, effect=float((numbers.mean() - mean) / sd),
                      reference_mean=float(mean), batch_mean=float(numbers.mean()))
    out.detectable = _detectable_shift(len(tested), len(sample))
    _ranges(out, spec, numbers)
    return out


def _categorical(name: str, spec: dict[str, Any], values: pd.Series) -> ColumnDrift:
    reference = pd.Series(spec.get("counts", {}), dtype=float)
    other = float(spec.get("other", 0))
    batch = values.value_counts().astype(float)
    batch.index = batch.index.map(str)
    new = [c for c in batch.index if c not in reference.index]
    table = pd.DataFrame({"reference": reference, "batch": batch}).fillna(0.0)
    if other:  # categories the profile did not name: one bin, with the batch's categories it did not name
        table.loc["\0other", "reference"] = other
        table.loc["\0other", "batch"] = table.loc[new, "batch"].sum()
        table = table.drop(index=new)
        new = []
    n_ref, n = float(table["reference"].sum()), float(table["batch"].sum())
    p = _chi_square(table, n)
    shares = table.div(table.sum()).fillna(0.0)
    change = (shares["batch"] - shares["reference"]).abs()
    out = ColumnDrift(name, "categorical", int(n), p, effect=float(change.max()) if len(change) else 0.0,
                      new_categories=new)
    named = shares.drop(index=["\0other"], errors="ignore")
    top = named.assign(change=change).sort_values("change", ascending=False).head(10)
    out.shares = {str(k): [float(v.reference), float(v.batch)] for k, v in top.iterrows()}
    commonest = float(shares["reference"].max()) if len(shares) else 0.5
    out.detectable = _detectable_share(commonest, int(n), int(n_ref))
    return out


def _chi_square(table: pd.DataFrame, n: float) -> float:
    """Chi-square test of the same shares in both rows, pooling the categories rarest in the training data
    until every pooled category expects at least MIN_EXPECTED rows of this batch."""
    total = table.sum(axis=1)
    expected = total / total.sum() * n
    order = expected.sort_values(ascending=False).index
    bins: list[list[str]] = []
    pool: list[str] = []
    for category in order:
        if expected[category] >= MIN_EXPECTED:
            bins.append([category])
        else:
            pool.append(category)
            if expected[pool].sum() >= MIN_EXPECTED:
                bins.append(pool)
                pool = []
    if pool:  # what is left expects too few rows: it joins the smallest bin
        if bins:
            bins[-1] = bins[-1] + pool
        else:
            bins.append(pool)
    if len(bins) < 2:
        return 1.0
    merged = np.array([[table.loc[b, "reference"].sum(), table.loc[b, "batch"].sum()] for b in bins])
    merged = merged[merged.sum(axis=1) > 0]
    if len(merged) < 2 or (merged[:, 1].sum() == 0):
        return 1.0
    return float(stats.chi2_contingency(merged.T, correction=False)[1])


def _ranges(out: ColumnDrift, spec: dict[str, Any], numbers: np.ndarray) -> None:
    deciles = spec.get("deciles") or []
    if deciles:
        out.below = int((numbers < deciles[0]).sum())
        out.above = int((numbers > deciles[-1]).sum())


def _correct(results: list[ColumnDrift], alpha: float) -> None:
    """Benjamini-Hochberg across the tested columns; a column drifts when its adjusted p-value is <= alpha."""
    if not results:
        return
    adjusted = stats.false_discovery_control([r.p_value for r in results], method="bh")
    for r, p in zip(results, np.atleast_1d(adjusted)):
        r.p_adjusted = float(min(1.0, p))
        r.drifted = r.p_adjusted <= alpha


def _detectable_shift(n: int, m: int, alpha: float = ALPHA) -> float:
    """The mean shift (in sd) detected with POWER by the Kolmogorov-Smirnov test at `alpha` with n and m values
    (a t-test's sample size, scaled by the test's efficiency)."""
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(POWER)
    return float(z * math.sqrt((1 / max(n, 1) + 1 / max(m, 1)) / KS_EFFICIENCY))


def _detectable_share(p: float, n: int, m: int, alpha: float = ALPHA) -> float:
    """The change of a share p (the commonest category's) detected with POWER at `alpha` with n and m rows."""
    p = min(max(p, 0.05), 0.95)
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(POWER)
    return float(z * math.sqrt(p * (1 - p) * (1 / max(n, 1) + 1 / max(m, 1))))


def _normalised(importance: dict[str, float]) -> dict[str, float]:
    values = {k: max(float(v), 0.0) for k, v in importance.items() if v is not None and math.isfinite(float(v))}
    total = sum(values.values())
    return {k: v / total for k, v in values.items()} if total > 0 else {}


def _key(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def as_text(value: Any) -> str:
    """A value as the text categories and class labels are compared in: 1, 1.0 and "1" are one."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
