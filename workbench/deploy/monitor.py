"""Monitoring a model version: a batch of new rows (an uploaded file, or what the endpoint served) against the
version's training data (drift), its predictions against those on the held-out rows (prediction drift), and,
when the batch holds the true values, its metrics against the test rows' spread; without them, an estimate."""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.deploy import performance as P
from workbench.deploy.drift import DriftReport, drift_report
from workbench.deploy.modelfile import load_pipeline
from workbench.deploy.predict import Predictor
from workbench.deploy.versions import version_model, version_profile
from workbench.errors import UserError
from workbench.i18n import Note
from workbench.store import Store
from workbench.store.versions import ModelVersion
from workbench.tasks import REGRESSION

BY_DAY, BY_ROWS = "day", "rows"
SKIPPED_KINDS = ("datetime",)  # dates move on by themselves: a new month is not drift


@dataclass
class Reference:
    """What a version brings to monitoring: its model, its training data's profile, its held-out rows, and the
    model's own importance per column (when the Explain stage ran)."""

    version: ModelVersion
    predictor: Predictor
    profile: dict[str, Any]
    evaluation: pd.DataFrame | None
    importance: dict[str, float] | None

    @property
    def task(self) -> str:
        return self.version.record["settings"]["task"]

    @property
    def target(self) -> str:
        return self.version.record["settings"]["target"]

    @property
    def classes(self) -> list[Any]:
        return self.version.record["classes"]


@dataclass
class BatchReport:
    """One batch's drift, prediction drift and performance."""

    label: str
    rows: int
    drift: DriftReport
    checks: list[P.MetricCheck] = field(default_factory=list)
    estimate: P.Estimate | None = None
    notes: list[Note] = field(default_factory=list)

    @property
    def performance_alarm(self) -> bool:
        return bool(self.checks and self.checks[0].alarm)

    @property
    def alarm(self) -> bool:
        return self.drift.alarm or self.performance_alarm

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {"batch": self.label, "rows": self.rows, "alarm": self.alarm,
                "performance_alarm": self.performance_alarm, "drift": self.drift.to_dict(),
                "performance": [c.to_dict() for c in self.checks],
                "estimate": self.estimate.to_dict() if self.estimate else None,
                "summary": [n.text(lang) for n in summary(self, lang)], "notes": [n.text(lang) for n in self.notes]}


def reference(store: Store, version: ModelVersion) -> Reference:
    """Load what monitoring compares with; UserError when the version lacks its profile or model file."""
    if not store.has_version_file(version.project_id, version.number, "profile.json"):
        raise UserError("monitor.no_profile", number=version.number)
    profile = version_profile(store, version)
    predictor = Predictor.from_record(load_pipeline(version_model(store, version)), version.record)
    evaluation = None
    if store.has_version_file(version.project_id, version.number, "evaluation.parquet"):
        evaluation = pd.read_parquet(io.BytesIO(store.version_file(version.project_id, version.number,
                                                                   "evaluation.parquet")))
    return Reference(version, predictor, profile, evaluation, _importance(store, version))


def _importance(store: Store, version: ModelVersion) -> dict[str, float] | None:
    """The model's own importance per uploaded column (SHAP, from the Explain stage), if it was explained."""
    from workbench.experiments import explanation_of

    try:
        explained = explanation_of(store, version.experiment_id)
    except (UserError, OSError):  # the experiment was deleted since: the version stands without it
        return None
    if explained is None:
        return None
    shares = explained[0].importance()
    return {str(k): float(v) for k, v in shares.items()}


def check_batch(ref: Reference, batch: pd.DataFrame, label: str = "", seed: int = 0) -> BatchReport:
    """The whole report on one batch of rows."""
    if batch is None or len(batch) == 0 or len(batch.columns) == 0:
        raise UserError("monitor.empty")
    features = ref.version.record["features"]
    present = [c for c in features if c in batch.columns]
    if not present:
        raise UserError("monitor.no_columns", expected=", ".join(map(str, features[:8])),
                        got=", ".join(map(str, list(batch.columns)[:8])))
    notes: list[Note] = []
    inputs = batch.drop(columns=[ref.target], errors="ignore")
    predicted, proba, report = ref.predictor.answers(inputs)
    prepared = _prepared(ref, batch, present)
    for name, count in report.not_numbers.items():
        notes.append(_note("monitor.not_numbers", column=name, count=count))
    if report.missing:
        notes.append(_note("monitor.missing_columns", columns=", ".join(map(str, report.missing[:10]))))
    prediction = None
    spec = ref.profile.get("prediction")
    if spec is not None:
        prediction = (spec, predicted if ref.task == REGRESSION else predicted.map(str))
    else:
        notes.append(_note("monitor.no_prediction_reference"))
    if ref.importance is None:
        notes.append(_note("monitor.no_importance"))
    drift = drift_report(ref.profile, prepared, ref.importance, prediction, seed=seed)
    drift.missing_columns = [c for c in features if c not in batch.columns]
    checks: list[P.MetricCheck] = []
    estimate = None
    if ref.evaluation is None:
        notes.append(_note("monitor.no_test_rows"))
    elif ref.target in batch.columns:
        truth = batch[ref.target]
        known = truth.notna().to_numpy()
        if ref.task != REGRESSION:
            unseen = sorted({P.class_text(v) for v in truth.dropna()} - {P.class_text(c) for c in ref.classes})
            if unseen:
                raise UserError("monitor.unseen_classes", column=ref.target, values=", ".join(unseen[:5]),
                                classes=", ".join(map(str, ref.classes)))
        if known.sum() >= 1:
            checks = P.labelled_checks(ref.evaluation, ref.task, ref.classes, truth[known], predicted[known],
                                       None if proba is None else proba[known], seed=seed)
    elif ref.task != REGRESSION and proba is not None:
        estimate = P.estimate(ref.evaluation, ref.task, ref.classes, proba, predicted, seed=seed)
    if len(batch) < 30:
        notes.append(_note("monitor.small_batch", rows=len(batch)))
    return BatchReport(label, int(len(batch)), drift, checks, estimate, notes)


def _prepared(ref: Reference, batch: pd.DataFrame, present: list[str]) -> pd.DataFrame:
    """The batch's columns as the model reads them (numbers as numbers), without the ones drift skips."""
    from workbench.deploy.predict import prepare

    schema = {c: ref.version.record["schema"][c] for c in present}
    rows, _ = prepare(batch[present], schema)
    keep = [c for c in present if schema[c].get("kind") not in SKIPPED_KINDS]
    return rows[keep]


def summary(report: BatchReport, lang: str | None = None) -> list[Note]:
    """The report in a few plain sentences, the most important first (metric names in `lang`)."""
    from workbench.evaluation import METRIC_KEYS
    from workbench.i18n import t

    drift = report.drift
    notes: list[Note] = []
    drifted = drift.drifted
    if drifted:
        top = drifted[0]
        notes.append(_note("monitor.summary.drift", count=len(drifted), total=len(drift.columns),
                          column=top.column, rows=report.rows))
    else:
        notes.append(_note("monitor.summary.no_drift", total=len(drift.columns), rows=report.rows))
    numeric = [c.detectable for c in drift.columns if c.kind == "numeric" and c.detectable is not None]
    if numeric:
        notes.append(_note("monitor.summary.detectable", rows=report.rows, shift=f"{min(numeric):.2f}"))
    if drift.prediction is not None:
        notes.append(_note("monitor.summary.prediction_drift" if drift.prediction.drifted
                          else "monitor.summary.prediction_same"))
    if report.checks:
        c = report.checks[0]
        if c.value is not None:
            notes.append(_note("monitor.summary.performance_alarm" if c.alarm else "monitor.summary.performance_ok",
                              metric=t(METRIC_KEYS[c.metric], lang), value=f"{c.value:.3f}", test=f"{c.test:.3f}",
                              low=f"{c.low:.3f}", high=f"{c.high:.3f}"))
    if report.estimate is not None:
        e = report.estimate
        notes.append(_note("monitor.summary.estimate", accuracy=f"{e.accuracy:.3f}",
                          spread=f"{1.96 * e.accuracy_sd:.3f}",
                          test=f"{e.test_accuracy:.3f}" if e.test_accuracy is not None else "-"))
    if not drifted and not report.performance_alarm and not (drift.prediction and drift.prediction.drifted):
        notes.append(_note("monitor.summary.action_none"))
    else:
        notes.append(_note("monitor.summary.action_retrain"))
    return notes


def batches_of(rows: pd.DataFrame, by: str = BY_DAY, size: int = 500) -> list[tuple[str, pd.DataFrame]]:
    """Logged rows (serving.logged_inputs: oldest first, with _at) in batches by day or by `size` rows."""
    if rows.empty:
        return []
    data = rows.drop(columns=[c for c in ("_at", "_version") if c in rows.columns])
    if by == BY_DAY:
        days = rows["_at"].astype(str).str[:10]
        return [(day, data[days == day].reset_index(drop=True)) for day in sorted(days.unique())]
    size = max(int(size), 1)
    return [(f"{start + 1}-{min(start + size, len(data))}", data.iloc[start:start + size].reset_index(drop=True))
            for start in range(0, len(data), size)]


def timeline(ref: Reference, batches: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """One row per batch: its size, how many columns drifted, the prediction's drift, and performance (measured
    when the batch has true values, else estimated)."""
    rows = []
    for label, frame in batches:
        report = check_batch(ref, frame, label)
        check = report.checks[0] if report.checks else None
        rows.append({
            "batch": label, "rows": report.rows, "drifted": len(report.drift.drifted),
            "columns": len(report.drift.columns),
            "prediction_p": report.drift.prediction.p_adjusted if report.drift.prediction else None,
            "metric": check.metric if check else ("accuracy" if report.estimate else None),
            "value": check.value if check else (report.estimate.accuracy if report.estimate else None),
            "measured": check is not None, "low": check.low if check else None,
            "high": check.high if check else None,
            "test": check.test if check else (report.estimate.test_accuracy if report.estimate else None),
            "alarm": report.alarm})
    return pd.DataFrame(rows)


def report_json(report: BatchReport, lang: str = "en") -> str:
    """The report as JSON (what `python -m workbench monitor` prints)."""
    return json.dumps(report.to_dict(lang), ensure_ascii=False, indent=2, default=_plain)


def _note(key: str, **params: Any) -> Note:
    return Note(key, params)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if not isinstance(value, (set, tuple)) else list(value)
