"""Explanations in the user's own columns: SHAP values summed back to each uploaded column, permutation
importance, partial dependence and ICE curves, and fairness across groups.

The pipeline is split in two: everything before the model turns raw rows into
the model's features (one-hot levels, scaled numbers, recipe-made columns), and
the model is explained on those features. Each feature is traced back to the
uploaded column it came from (the preparation's one-hot levels through its own
encoder; a column the recipe derived, such as 'sex_male' or 'age_missing', by
its name), and contributions of features from one column are summed. A column
the recipe made from several (a formula) keeps its own name.

The explainer is chosen by the model's kind: TreeExplainer for tree models,
LinearExplainer for linear ones, and a PermutationExplainer with a background
sample for the rest. Each satisfies additivity: base value plus contributions
equals the model's output (in the unit named by `unit`) for every row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from workbench.i18n import Note
from workbench.stats import is_number
from workbench.tasks import BINARY, REGRESSION

TREE, LINEAR, PERMUTATION = "TreeExplainer", "LinearExplainer", "PermutationExplainer"
LOG_ODDS, PROBABILITY, TARGET = "log_odds", "probability", "target"
GLOBAL_ROWS = 1_000  # test rows explained for the global views
BACKGROUND_ROWS = 100  # training rows the model-agnostic and linear explainers compare against
AGNOSTIC_ROWS = 200  # rows explained by the (slow) permutation explainer
EXACT_BUDGET_S = 8.0  # beyond this estimated time, forests use the fast path-based (Saabas) attributions


def explainer_kind(model: Any) -> str:
    """Which SHAP explainer suits a fitted estimator."""
    from sklearn import ensemble, linear_model, tree

    trees = (tree.BaseDecisionTree, ensemble.RandomForestClassifier, ensemble.RandomForestRegressor,
             ensemble.ExtraTreesClassifier, ensemble.ExtraTreesRegressor, ensemble.GradientBoostingClassifier,
             ensemble.GradientBoostingRegressor, ensemble.HistGradientBoostingClassifier,
             ensemble.HistGradientBoostingRegressor)
    if isinstance(model, trees) or type(model).__module__.startswith("lightgbm."):
        return TREE
    if isinstance(model, (linear_model.LogisticRegression, linear_model.LinearRegression, linear_model.Ridge,
                          linear_model.Lasso, linear_model.ElasticNet)):
        return LINEAR
    return PERMUTATION


def split_pipeline(pipeline: Pipeline) -> tuple[Pipeline, Any]:
    """(raw rows -> model features, the model)."""
    return pipeline[:-1], pipeline[-1]


def _ready_columns(pipeline: Pipeline) -> list[str]:
    """Where each model feature comes from, in the frame the preparation step received."""
    prepare = pipeline[:-1][-1]
    if not isinstance(prepare, ColumnTransformer):
        return [str(c) for c in pipeline[:-1].get_feature_names_out()]
    sources: list[str] = []
    for _, transformer, columns in prepare.transformers_:
        if isinstance(transformer, str) and transformer == "drop" or len(columns) == 0:
            continue
        columns = [str(c) for c in columns]
        last = transformer[-1] if isinstance(transformer, Pipeline) else transformer
        if isinstance(last, OneHotEncoder):
            counts = getattr(last, "_n_features_outs", None) or [len(c) for c in last.categories_]
            for column, count in zip(columns, counts):
                sources += [column] * int(count)
        else:
            sources += columns
    return sources


def feature_sources(pipeline: Pipeline, raw_columns: list[str]) -> list[str]:
    """For each model feature, the uploaded column it comes from (or its own name when the recipe made it
    from several columns)."""
    raw = sorted((str(c) for c in raw_columns), key=len, reverse=True)

    def origin(name: str) -> str:
        if name in raw:
            return name
        return next((c for c in raw if name.startswith(f"{c}_")), name)

    return [origin(c) for c in _ready_columns(pipeline)]


def _grouping(sources: list[str]) -> tuple[list[str], np.ndarray]:
    """The distinct columns, in first-seen order, and the (features x columns) 0/1 matrix that sums them."""
    columns = list(dict.fromkeys(sources))
    matrix = np.zeros((len(sources), len(columns)))
    for i, source in enumerate(sources):
        matrix[i, columns.index(source)] = 1.0
    return columns, matrix


@dataclass
class Explanation:
    """SHAP values per uploaded column: values[k, i, j] is column j's contribution to output k for row i."""

    explainer: str
    unit: str
    outputs: list[str]
    columns: list[str]
    values: np.ndarray
    base: np.ndarray
    output: np.ndarray  # the model's own output for each row, in `unit` (base + sum of values)
    rows: pd.DataFrame  # the raw rows explained
    background: int = 0
    approximate: bool = False
    derived: list[str] = field(default_factory=list)  # columns the recipe made from several uploaded ones

    def to_bytes(self) -> tuple[bytes, bytes]:
        """(JSON of everything but the rows, Parquet of the rows) for the store."""
        import io
        import json

        meta = {"explainer": self.explainer, "unit": self.unit, "outputs": self.outputs, "columns": self.columns,
                "values": self.values.tolist(), "base": self.base.tolist(), "output": self.output.tolist(),
                "background": self.background, "approximate": self.approximate, "derived": self.derived,
                "index": [str(i) for i in self.rows.index]}
        buffer = io.BytesIO()
        safe = self.rows.reset_index(drop=True)
        for name in safe.columns:
            if safe[name].dtype == object:
                safe[name] = safe[name].map(str, na_action="ignore").astype("str")
        safe.to_parquet(buffer, index=False)
        return json.dumps(meta).encode("utf-8"), buffer.getvalue()

    @classmethod
    def from_bytes(cls, meta_bytes: bytes, rows_bytes: bytes) -> "Explanation":
        """Read back what to_bytes() wrote."""
        import io
        import json

        meta = json.loads(meta_bytes)
        rows = pd.read_parquet(io.BytesIO(rows_bytes))
        rows.index = pd.Index(meta.pop("index"))
        return cls(meta["explainer"], meta["unit"], meta["outputs"], meta["columns"], np.asarray(meta["values"]),
                   np.asarray(meta["base"]), np.asarray(meta["output"]), rows, meta["background"],
                   meta["approximate"], meta["derived"])

    def importance(self, k: int = 0) -> pd.Series:
        """Mean |SHAP| per column for output k, largest first."""
        return pd.Series(np.abs(self.values[k]).mean(axis=0), index=self.columns).sort_values(ascending=False)


def _outputs(task: str, classes: list[Any], n_outputs: int) -> tuple[list[str], list[int]]:
    """Which model outputs to keep: the positive class for binary tasks, every class for multiclass."""
    if task == REGRESSION:
        return ["prediction"], [0]
    if n_outputs == 1:  # one margin: the positive class
        return [str(classes[-1])], [0]
    if task == BINARY:
        return [str(classes[1])], [1]
    return [str(c) for c in classes], list(range(n_outputs))


def _as_outputs_first(values: Any) -> np.ndarray:
    """SHAP values as (outputs, rows, features)."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 2:
        return values[None, :, :]
    return np.moveaxis(values, -1, 0)


def rows_to_explain(pipeline: Pipeline) -> int:
    """How many rows the global views explain: fewer for the slow model-agnostic explainer."""
    return AGNOSTIC_ROWS if explainer_kind(pipeline[-1]) == PERMUTATION else GLOBAL_ROWS


def _in_chunks(values_of: Callable[[np.ndarray], Any], Z: np.ndarray,
               report: Callable[[float], None] | None, parts: int = 10) -> Any:
    """SHAP values of Z's rows in about `parts` chunks, saying the share done after each (a large forest takes
    minutes); one call when nobody listens or the rows are few. Rows are the first axis (a list per class, as
    older SHAP returned, is joined class by class)."""
    if report is None or len(Z) < 2 * parts:
        return values_of(Z)
    size = -(-len(Z) // parts)
    chunks = []
    for start in range(0, len(Z), size):
        chunks.append(values_of(Z[start:start + size]))
        report(min(1.0, (start + size) / len(Z)))
    if isinstance(chunks[0], list):
        return [np.concatenate([c[i] for c in chunks]) for i in range(len(chunks[0]))]
    return np.concatenate([np.asarray(c) for c in chunks], axis=0)


def explain(pipeline: Pipeline, rows: pd.DataFrame, background: pd.DataFrame, task: str, classes: list[Any],
            exact: bool | None = None, report: Callable[[float], None] | None = None) -> Explanation:
    """Explain `rows` (raw columns, as uploaded). `background`: raw training rows for the linear and
    model-agnostic explainers. `exact=None` lets forests fall back to path-based attributions when exact
    TreeSHAP would take longer than EXACT_BUDGET_S; single rows are always exact."""
    import shap

    features, model = split_pipeline(pipeline)
    Z = np.asarray(features.transform(rows), dtype=float)
    Zb = np.asarray(features.transform(background.head(BACKGROUND_ROWS)), dtype=float)
    kind = explainer_kind(model)
    approximate = False
    if kind == TREE:
        explainer = shap.TreeExplainer(model)
        if exact is None and len(Z) > 20:
            start = time.perf_counter()
            explainer.shap_values(Z[:5], check_additivity=False)
            exact = (time.perf_counter() - start) / 5 * len(Z) <= EXACT_BUDGET_S
        approximate = exact is False
        raw = _in_chunks(lambda part: explainer.shap_values(part, approximate=approximate, check_additivity=False),
                         Z, report)
        base = np.atleast_1d(np.asarray(explainer.expected_value, dtype=float))
        proba_trees = task != REGRESSION and not hasattr(model, "decision_function")
        unit = TARGET if task == REGRESSION else (PROBABILITY if proba_trees else LOG_ODDS)
    elif kind == LINEAR:
        explainer = shap.LinearExplainer(model, Zb)
        raw = explainer.shap_values(Z)
        base = np.atleast_1d(np.asarray(explainer.expected_value, dtype=float))
        unit = TARGET if task == REGRESSION else LOG_ODDS
    else:
        function = model.predict if task == REGRESSION else model.predict_proba
        explainer = shap.PermutationExplainer(function, shap.maskers.Independent(Zb, max_samples=len(Zb)))
        parts, bases = [], []
        for start in range(0, len(Z), 20):
            result = explainer(Z[start:start + 20], max_evals=max(2 * Z.shape[1] + 1, 100), silent=True)
            parts.append(np.asarray(result.values))
            bases.append(np.asarray(result.base_values))
            if report:
                report(min(1.0, (start + 20) / len(Z)))
        raw = np.concatenate(parts)
        base = np.atleast_1d(np.asarray(bases[0], dtype=float)[0])  # the same for every row
        unit = TARGET if task == REGRESSION else PROBABILITY
    values = _as_outputs_first(raw)
    base = np.broadcast_to(np.atleast_1d(base).reshape(-1), (values.shape[0],)).astype(float)
    names, keep = _outputs(task, classes, values.shape[0])
    values, base = values[keep], base[keep]
    sources = feature_sources(pipeline, list(rows.columns))
    columns, matrix = _grouping(sources)
    grouped = values @ matrix
    output = base[:, None] + values.sum(axis=2)
    derived = [c for c in columns if c not in set(map(str, rows.columns))]
    return Explanation(kind, unit, names, columns, grouped, base, output, rows.copy(), len(Zb), approximate,
                       derived)


def model_output(pipeline: Pipeline, rows: pd.DataFrame, explanation: Explanation) -> np.ndarray:
    """The model's own output for `rows` in the explanation's unit, computed without SHAP (to check
    additivity): probabilities, log-odds (decision function) or predictions, one row per output kept."""
    features, model = split_pipeline(pipeline)
    Z = features.transform(rows)
    if explanation.unit == TARGET:
        return np.asarray(model.predict(Z), dtype=float)[None, :]
    if explanation.unit == PROBABILITY:
        proba = model.predict_proba(Z)
        index = [list(map(str, model.classes_)).index(o) for o in explanation.outputs]
        return proba[:, index].T
    margin = np.asarray(model.decision_function(Z), dtype=float)
    return margin[None, :] if margin.ndim == 1 else margin.T


# ---------------------------------------------------------------- beyond SHAP


def permutation_importance_table(pipeline: Pipeline, X: pd.DataFrame, y: pd.Series, scoring: str,
                                 repeats: int = 5, seed: int = 0) -> pd.DataFrame:
    """Permutation importance of each uploaded column on held-out rows: mean and sd of the score drop."""
    from sklearn.inspection import permutation_importance

    result = permutation_importance(pipeline, X, y, scoring=scoring, n_repeats=repeats, random_state=seed,
                                    n_jobs=1)
    return (pd.DataFrame({"column": list(X.columns), "mean": result.importances_mean,
                          "sd": result.importances_std})
            .sort_values("mean", ascending=False, ignore_index=True))


def partial_dependence_data(pipeline: Pipeline, X: pd.DataFrame, columns: list[str], task: str,
                            classes: list[Any], ice_rows: int = 50, grid: int = 20) -> dict[str, Any]:
    """Partial dependence (and, for one column, ICE curves of `ice_rows` rows) on the raw columns.
    For classification the probability of the positive (binary) or each class (multiclass)."""
    from sklearn.inspection import partial_dependence

    sample = X.sample(min(len(X), 500), random_state=0) if len(X) > 500 else X
    # whole numbers and yes/no are varied as floats (scikit-learn refuses integer grids); the pipeline's
    # ModelReady step turns yes/no into numbers anyway
    sample = sample.astype({c: float for c in columns if pd.api.types.is_integer_dtype(sample[c])
                            or pd.api.types.is_bool_dtype(sample[c])})
    categorical = [c for c in columns if not pd.api.types.is_numeric_dtype(sample[c])]
    kind = "both" if len(columns) == 1 else "average"
    result = partial_dependence(pipeline, sample, columns, kind=kind, grid_resolution=grid,
                                categorical_features=categorical or None,
                                response_method="auto" if task == REGRESSION else "predict_proba")
    data = {"columns": columns, "grid": [list(g) for g in result["grid_values"]],
            "average": np.asarray(result["average"]), "outputs": _pd_outputs(task, classes, result["average"])}
    if kind == "both":
        individual = np.asarray(result["individual"])
        data["individual"] = individual[:, :ice_rows]
    return data


def _pd_outputs(task: str, classes: list[Any], average: np.ndarray) -> list[str]:
    if task == REGRESSION:
        return ["prediction"]
    if np.asarray(average).shape[0] == 1:
        return [str(classes[-1])]
    return [str(c) for c in classes]


# ---------------------------------------------------------------- fairness

LARGE_GAP = 0.1  # a difference between groups above this (in a rate or accuracy) earns a warning


def fairness(y_true: pd.Series, y_pred: pd.Series, groups: pd.Series, task: str,
             positive: Any = None) -> tuple[pd.DataFrame, pd.Series]:
    """Per-group counts and metrics (fairlearn MetricFrame), and the largest gap between groups per metric.
    Classification: accuracy, selection rate, true and false positive rates (of `positive`);
    regression: mean absolute error."""
    from fairlearn.metrics import (
        MetricFrame,
        count,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, mean_absolute_error

    groups = groups.astype("str").where(groups.notna(), "(missing)").rename(groups.name or "group")
    if task == REGRESSION:
        metrics = {"count": count, "mae": mean_absolute_error}
        y_true, y_pred = y_true.astype(float), y_pred.astype(float)
    elif task == BINARY:
        y_true, y_pred = ((y.astype(str) == str(positive)).astype(int) for y in (y_true, y_pred))
        metrics = {"count": count, "accuracy": accuracy_score, "selection_rate": selection_rate,
                   "tpr": true_positive_rate, "fpr": false_positive_rate}
    else:
        y_true, y_pred = y_true.astype(str), y_pred.astype(str)
        metrics = {"count": count, "accuracy": accuracy_score}
    frame = MetricFrame(metrics=metrics, y_true=y_true.to_numpy(), y_pred=y_pred.to_numpy(),
                        sensitive_features=groups.to_numpy())
    by_group = frame.by_group
    by_group.index.name = groups.name
    gaps = frame.difference(method="between_groups").drop(labels=["count"])
    return by_group, gaps


def _label_key(value: Any) -> Any:
    """A class label in one form, whatever the record stored it as: True, 'True', 1.0 and '1' are one class
    (a boolean target was once stored as 0.0/1.0 beside the text 'True')."""
    text = str(value).strip()
    if text.lower() in ("true", "false"):
        return float(text.lower() == "true")
    try:
        return float(text)
    except ValueError:
        return text


def rows_worth_a_look(evaluation: pd.DataFrame, task: str, threshold: float, source: str,
                      count: int = 20) -> pd.DataFrame:
    """Test rows of an experiment's evaluation (row, actual, predicted, probability_*) worth a look: with
    `source` "wrong", the most confident wrong predictions (for regression the largest misses); otherwise the
    predictions closest to the decision boundary. A 'score' column says how far each row is."""
    probabilities = evaluation.filter(like="probability_")
    if task == REGRESSION:
        miss = (evaluation["actual"].astype(float) - evaluation["predicted"].astype(float)).abs()
        return evaluation.assign(score=miss).sort_values("score", ascending=False).head(count)
    if source == "wrong":
        wrong = evaluation[evaluation["actual"].map(_label_key) != evaluation["predicted"].map(_label_key)]
        return wrong.assign(score=probabilities.loc[wrong.index].max(axis=1)).sort_values(
            "score", ascending=False).head(count)
    if task == BINARY:
        margin = (probabilities.iloc[:, 1] - threshold).abs()
    else:
        top = np.sort(probabilities.to_numpy(), axis=1)
        margin = pd.Series(top[:, -1] - top[:, -2], index=evaluation.index)
    return evaluation.assign(score=margin).sort_values("score").head(count)


def in_probability(explanation: Explanation) -> Explanation:
    """A binary model's log-odds explanation in shares of probability: each row's contributions rescaled so that
    they add up to its predicted probability minus the base probability (the usual approximation: the order and
    signs are kept, the totals are exact). Any other explanation is returned as it is."""
    from dataclasses import replace
    from scipy.special import expit

    e = explanation
    if e.unit != LOG_ODDS or len(e.outputs) != 1:
        return e
    probability, base = expit(e.output), expit(e.base)
    change = e.output - e.base[:, None]
    # where the log-odds hardly move, the slope of the logistic curve at the base
    slope = np.broadcast_to((base * (1 - base))[:, None], change.shape).copy()
    ratio = np.divide(probability - base[:, None], change, out=slope, where=np.abs(change) > 1e-9)
    return replace(e, unit=PROBABILITY, values=e.values * ratio[:, :, None], base=base, output=probability)


TREND_KEYS = {(True, False): "explain.reason.up", (False, False): "explain.reason.down",
              (True, True): "explain.reason.up_value", (False, True): "explain.reason.down_value"}
WEAK_TREND = 0.2  # |Spearman correlation| of a number with its SHAP values below which no direction is named


def reasons(explanation: Explanation, k: int, target: str, count: int = 3) -> list[Note]:
    """The top `count` columns for output k, each as a sentence a manager can read: the higher a number, the
    more (or less) likely the class (or the larger the prediction); or which value of a category pushes most."""
    e = explanation
    regression = e.unit == TARGET
    label = target if regression else str(e.outputs[k])
    notes = []
    for column in e.importance(k).head(count).index:
        shap_values = pd.Series(e.values[k][:, e.columns.index(column)], index=e.rows.index)
        raw = e.rows[column] if column in e.rows.columns else None
        if raw is None or raw.notna().sum() < 3:
            notes.append(Note("explain.reason.derived", {"column": column, "label": label}))
        elif is_number(raw) and raw.nunique() > 2:
            trend = raw.rank().corr(shap_values.rank())
            if not np.isfinite(trend) or abs(trend) < WEAK_TREND:
                notes.append(Note("explain.reason.mixed", {"column": column, "label": label}))
            else:
                notes.append(Note(TREND_KEYS[trend > 0, regression], {"column": column, "label": label}))
        else:
            means = shap_values.groupby(raw.astype(str)).mean()
            notes.append(Note("explain.reason.level_value" if regression else "explain.reason.level",
                              {"column": column, "value": str(means.idxmax()), "label": label}))
    return notes

