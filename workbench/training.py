"""Training: one scikit-learn Pipeline from raw columns to prediction, fitted on training rows only.

Pipeline = recipe (column and learned steps) -> ModelReady (booleans, dates)
-> preparation of what the recipe left raw (median imputation and, for models
that need it, scaling of numbers; a 'missing' level and one-hot encoding of
categories, rare levels pooled) -> the model.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.metrics import get_scorer
from sklearn.model_selection import (
    RepeatedKFold,
    RepeatedStratifiedKFold,
    TimeSeriesSplit,
    cross_val_score,
    train_test_split,
)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.class_weight import compute_class_weight
from threadpoolctl import threadpool_limits

from workbench.deploy.predict import feature_schema
from workbench.errors import UserError
from workbench.evaluation import (
    CV_SCORING,
    LOWER_IS_BETTER,
    PRIMARY,
    classification_metrics,
    cv_sign,
    predict_with_threshold,
    regression_metrics,
)
from workbench.models import CATALOGUE
from workbench.recipe import Recipe
from workbench.stats import whole_numbers
from workbench.tasks import BINARY, CLASSIFICATION, REGRESSION, check_target
from workbench.transformers import ModelReady

MAX_LEVELS = 30  # one-hot columns per category; rarer levels are pooled as 'infrequent'


def preparation(scaled: bool) -> ColumnTransformer:
    """Impute (and scale) numbers, impute and one-hot encode categories; column kinds are read at fit time."""
    numbers = [SimpleImputer(strategy="median", keep_empty_features=True)] + ([StandardScaler()] if scaled else [])
    categories = [SimpleImputer(strategy="constant", fill_value="missing"),
                  OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_LEVELS, min_frequency=5,
                                sparse_output=False)]
    return ColumnTransformer(
        [("numbers", make_pipeline(*numbers), make_column_selector(dtype_include="number")),
         ("categories", make_pipeline(*categories), make_column_selector(dtype_exclude="number"))],
        verbose_feature_names_out=False,
    )


def build_pipeline(recipe: Recipe, model_id: str, task: str, params: dict[str, Any] | None = None,
                   seed: int = 0, balanced: bool = False, model: Any = None) -> Pipeline:
    """The whole pipeline, unfitted: raw columns in, prediction out. `model` (an unfitted estimator, e.g. a
    pipeline an AutoML search found) replaces the catalogue model; it brings its own scaling."""
    if model is None:
        spec = CATALOGUE[model_id]
        model, scaled = spec.estimator(task, params, seed, balanced), spec.scaled
        if spec.text:  # it reads its text column from the recipe's output itself
            return Pipeline([("recipe", recipe.to_sklearn()), ("model", model)])
    else:
        model, scaled = clone(model), False
    return Pipeline([*feature_pipeline(recipe, scaled).steps, ("model", model)])


def feature_pipeline(recipe: Recipe, scaled: bool = False) -> Pipeline:
    """Raw columns to model features: the recipe, ModelReady and the preparation (unfitted)."""
    return Pipeline([("recipe", recipe.to_sklearn()), ("ready", ModelReady()), ("prepare", preparation(scaled))])


# ---------------------------------------------------------------- splits and experiments

HOLDOUT, TIME_ORDERED = "holdout", "time"


@dataclass(frozen=True)
class Split:
    """How rows are divided: a test holdout (stratified for classes) or the latest rows by a date column;
    cross-validation on the training rows (repeated K-fold, or forward-chaining folds over time)."""

    method: str = HOLDOUT
    test_size: float = 0.2
    folds: int = 5
    repeats: int = 1
    seed: int = 42
    time_column: str | None = None


@dataclass(frozen=True)
class Settings:
    """A training run's choices (kept apart from what it computes)."""

    target: str
    task: str
    model_id: str
    params: dict[str, Any] = field(default_factory=dict)
    balanced: bool = False
    threshold: float = 0.5
    split: Split = Split()


@dataclass
class Experiment:
    """What a training run computed: held-out metrics beside the baseline's, CV scores and the fitted pipeline."""

    settings: Settings
    metrics: dict[str, float]
    baseline: dict[str, float]
    cv_scores: list[float]
    primary: str
    classes: list[Any]
    n_train: int
    n_test: int
    seconds: float
    pipeline: Pipeline
    test_index: list[Any]
    y_test: list[Any]
    predictions: list[Any]
    proba: list[list[float]] | None
    features: list[str]
    schema: dict[str, dict[str, Any]]
    recipe: str  # the recipe's JSON, so the run can be reproduced after the recipe changes


def _fit_and_cross_validate(pipeline: Pipeline, X: pd.DataFrame, y: pd.Series, settings: Settings,
                            primary: str) -> tuple[Pipeline, list[float]]:
    """The final fit and the CV folds as one batch of independent fits: on large tables they share the
    cores (one thread each), so the final fit does not wait for the folds."""
    scorer = get_scorer(CV_SCORING[primary])
    folds = list(cv_splitter(settings.task, settings.split).split(X, y))
    with Parallel(n_jobs=cv_workers(len(X))) as parallel:
        results = parallel([delayed(_fit)(clone(pipeline), X, y)] +
                           [delayed(_fold_score)(clone(pipeline), X, y, train, test, scorer) for train, test in folds])
    return results[0], results[1:]


def _fit(pipeline: Pipeline, X: pd.DataFrame, y: pd.Series) -> Pipeline:
    return fittable(pipeline, y).fit(X, y)


def _fold_score(pipeline: Pipeline, X: pd.DataFrame, y: pd.Series, train: np.ndarray, test: np.ndarray,
                scorer: Any) -> float:
    fitted = fittable(pipeline, y.iloc[train]).fit(X.iloc[train], y.iloc[train])
    return float(scorer(fitted, X.iloc[test], y.iloc[test]))


def fittable(pipeline: Pipeline, y: pd.Series, rows_per_class: int = 2) -> Pipeline:
    """The pipeline, with early stopping off where its model would hold out a stratified validation split of
    its own (histogram gradient boosting) and some class of `y` has fewer than `rows_per_class` rows: such a
    split needs two rows of every class, and a rare class is no reason to refuse the table; and a balanced forest
    given its weights explicitly where its classes are codes written as text (`balanced_weights`)."""
    name, model = pipeline.steps[-1]
    params = model.get_params(deep=False)
    if params.get("early_stopping") is True and not pd.api.types.is_float_dtype(y) and (
            y.value_counts().min() < rows_per_class):
        pipeline.set_params(**{f"{name}__early_stopping": False})
    if params.get("class_weight") == "balanced" and isinstance(model, (RandomForestClassifier, ExtraTreesClassifier)):
        weights = balanced_weights(y)
        if weights is not None:
            pipeline.set_params(**{f"{name}__class_weight": weights})
    return pipeline


def balanced_weights(y: pd.Series) -> dict[Any, float] | None:
    """class_weight="balanced" as explicit weights where a forest needs them, else None. scikit-learn's forests
    expand "balanced" into a dict of the classes and then look each class up as int(label) where it parses, so
    text labels such as "0"/"1" or "1"..."5" fail ("The classes, [0, 1], are not in class_weight"); here each
    weight is keyed by the label and by that int."""
    numeric = {}
    for label in pd.unique(y):
        if isinstance(label, str):
            try:
                numeric[label] = int(label)
            except ValueError:
                pass
    if not numeric:
        return None
    labels = y.to_numpy(dtype=object)
    values = np.unique(labels)
    weights = dict(zip(values.tolist(), compute_class_weight("balanced", classes=values, y=labels).tolist()))
    for label, number in numeric.items():
        weights.setdefault(number, weights[label])
    return weights


def job_cores() -> int:
    """How many cores the work running here may use for parallel fits (joblib's n_jobs): inside a Dask worker,
    that worker's threads (a local cluster's worker has one per job slot, so two jobs on two cores do not
    fight for them); elsewhere every core of the machine."""
    try:
        from distributed import get_worker

        return max(1, get_worker().state.nthreads)
    except (ImportError, ValueError):  # not inside a worker (or a bundle without Dask)
        return os.cpu_count() or 1


def cv_workers(rows: int) -> int:
    """How many fits training runs at once on `rows` training rows: folds in parallel (one thread each) on large
    tables; small ones are faster without process start-up."""
    return max(1, min(2, job_cores())) if rows >= 20_000 else 1


LARGE_TABLE = 50_000  # rows from which 3 folds are proposed instead of 5


def default_folds(rows: int) -> int:
    """Five CV folds; three on large tables, where each fold is already a large, steady sample."""
    return 3 if rows >= LARGE_TABLE else 5


SMALL_TABLE = 1_000  # rows under which a comparison of models repeats its folds


def cv_repeats(rows: int) -> int:
    """How many times a comparison of models repeats its K folds: small tables give noisy scores, and more repeats
    there cost little and steady the choice."""
    return 3 if rows < SMALL_TABLE else 1


def split_rows(df: pd.DataFrame, target: str, task: str, split: Split) -> tuple[pd.Index, pd.Index]:
    """Index labels of training and test rows; no row is in both."""
    if split.method == TIME_ORDERED:
        if not split.time_column or split.time_column not in df.columns:
            raise UserError("training.no_time_column")
        order = df[split.time_column].sort_values(kind="stable").index
        cut = int(round(len(order) * (1 - split.test_size)))
        return order[:cut], order[cut:]
    y = df[target]
    stratify = None
    if task in CLASSIFICATION and y.value_counts().min() >= 2:
        stratify = y.astype(str)
    train, test = train_test_split(df.index, test_size=split.test_size, random_state=split.seed, stratify=stratify)
    return pd.Index(train), pd.Index(test)


def cv_splitter(task: str, split: Split) -> Any:
    """The cross-validation folds used on the training rows."""
    if split.method == TIME_ORDERED:
        return TimeSeriesSplit(n_splits=split.folds)
    if task in CLASSIFICATION:
        return RepeatedStratifiedKFold(n_splits=split.folds, n_repeats=split.repeats, random_state=split.seed)
    return RepeatedKFold(n_splits=split.folds, n_repeats=split.repeats, random_state=split.seed)


def _training_rows(df: pd.DataFrame, recipe: Recipe, settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check the target and recipe, split, and clean the training rows with the row steps."""
    check = check_target(df, settings.target, settings.task, settings.split.folds)
    if not check.ok:
        raise UserError(check.errors[0].key, **check.errors[0].params)
    _refuse_target_steps(recipe, settings.target)
    data = df[df[settings.target].notna()]
    if settings.task in CLASSIFICATION:
        data = data.assign(**{settings.target: class_labels(data[settings.target])})
    train_index, test_index = split_rows(data, settings.target, settings.task, settings.split)
    train = data.loc[train_index]
    train = train.loc[recipe.training_rows(train)]
    if settings.task in CLASSIFICATION and train[settings.target].nunique() < 2:
        raise UserError("target.one_class", column=settings.target, value=str(train[settings.target].iloc[0]))
    # the model sees the table as the recipe leaves it: a dropped column is no input (nor asked of new rows)
    columns = [c for c in recipe.inputs(data.columns) if c != settings.target] + [settings.target]
    return train[columns], data.loc[test_index, columns]


def class_labels(y: pd.Series) -> pd.Series:
    """A classification target without missing values, as the model should name its classes: booleans stay
    True/False and whole numbers stay integers (scikit-learn reads a nullable boolean, or a float column that
    had gaps, as 0.0/1.0 or 4.0); text labels are kept as written."""
    if pd.api.types.is_bool_dtype(y):
        return y.astype(bool)
    whole = pd.api.types.is_float_dtype(y) and whole_numbers(y)
    if whole or (pd.api.types.is_integer_dtype(y) and pd.api.types.is_extension_array_dtype(y)):
        return y.astype("int64")
    return y


def cross_validate_params(df: pd.DataFrame, recipe: Recipe, settings: Settings, scoring: str | None = None) -> float:
    """Mean cross-validated score of `settings` on the training rows (the test rows stay unseen), on the task's
    primary metric or `scoring` (a key of CV_SCORING)."""
    train, _ = _training_rows(df, recipe, settings)
    pipeline = build_pipeline(recipe, settings.model_id, settings.task, settings.params, settings.split.seed,
                              settings.balanced)
    metric = scoring or PRIMARY[settings.task]
    if settings.task in CLASSIFICATION:  # a fold's training rows hold (folds - 1) / folds of each class
        fittable(pipeline, train[settings.target], rows_per_class=settings.split.folds + 1)
    with threadpool_limits(limits=1):
        scores = cross_val_score(pipeline, train.drop(columns=[settings.target]), train[settings.target],
                                 cv=cv_splitter(settings.task, settings.split), scoring=CV_SCORING[metric],
                                 error_score=np.nan)
    scores = cv_sign(metric) * scores
    return float(np.nanmean(scores)) if np.isfinite(scores).any() else float("nan")


def train_experiment(df: pd.DataFrame, recipe: Recipe, settings: Settings, model: Any = None,
                     cross_validate: bool = True) -> Experiment:
    """Split, cross-validate on the training rows (unless `cross_validate` is False: a stopped AutoML search has
    scored its winner on its folds already), fit, and score on the untouched test rows.

    Row steps of the recipe clean the training rows only; the pipeline (recipe
    column and learned steps, preparation, model) is fitted on those rows alone.
    """
    start = time.perf_counter()
    train, test = _training_rows(df, recipe, settings)
    X_train, y_train = train.drop(columns=[settings.target]), train[settings.target]
    X_test, y_test = test.drop(columns=[settings.target]), test[settings.target]

    pipeline = build_pipeline(recipe, settings.model_id, settings.task, settings.params, settings.split.seed,
                              settings.balanced, model)
    primary = PRIMARY[settings.task]
    with threadpool_limits(limits=1):
        if model is None and CATALOGUE[settings.model_id].network:
            # A network checks itself on a validation split as it trains; five more fits would multiply the wait.
            pipeline, cv_scores = pipeline.fit(X_train, y_train), []
        elif not cross_validate:
            pipeline, cv_scores = _fit(pipeline, X_train, y_train), []
        else:
            pipeline, cv_scores = _fit_and_cross_validate(pipeline, X_train, y_train, settings, primary)
        baseline = build_pipeline(recipe, "dummy", settings.task, seed=settings.split.seed).fit(X_train, y_train)
    cv = [cv_sign(primary) * float(s) for s in cv_scores]
    scored, base, predictions, proba, classes = _score(pipeline, baseline, X_test, y_test, settings)
    return Experiment(
        settings=settings, metrics=scored, baseline=base, cv_scores=cv, primary=primary, classes=classes,
        n_train=len(X_train), n_test=len(X_test), seconds=time.perf_counter() - start, pipeline=pipeline,
        test_index=list(test.index), y_test=list(y_test), predictions=list(predictions),
        proba=None if proba is None else proba.tolist(), features=list(X_train.columns),
        schema=feature_schema(X_train), recipe=recipe.to_json(),
    )


def _score(pipeline: Pipeline, baseline: Pipeline, X: pd.DataFrame, y: pd.Series,
           settings: Settings) -> tuple[dict[str, float], dict[str, float], np.ndarray, np.ndarray | None, list]:
    if settings.task == REGRESSION:
        predictions = pipeline.predict(X)
        return regression_metrics(y, predictions), regression_metrics(y, baseline.predict(X)), predictions, None, []
    classes = pipeline.classes_
    proba = pipeline.predict_proba(X)
    if settings.task == BINARY:
        predictions = predict_with_threshold(proba, classes, settings.threshold)
    else:
        predictions = classes[np.argmax(proba, axis=1)]
    base_proba = baseline.predict_proba(X)
    base = classification_metrics(y, classes[np.argmax(base_proba, axis=1)], base_proba, classes)
    return classification_metrics(y, predictions, proba, classes), base, predictions, proba, list(classes)


def _refuse_target_steps(recipe: Recipe, target: str) -> None:
    """The pipeline runs on rows without the target: only row steps and target encoding may use it."""
    for step in recipe.active:
        if step.sort == "row" or step.target() == target:
            continue
        if target in step.columns_used():
            raise UserError("training.recipe_uses_target", step=step.title(), column=target)


SCREEN_ROWS = 5_000  # rows sampled for the quick comparison on large tables
SCREEN_SKIP = {"svm": 5_000, "knn": 50_000}  # models skipped above these row counts (fit or predict too slow)


def propose_model(df: pd.DataFrame, recipe: Recipe, settings: Settings,
                  report: Any = None) -> tuple[str, dict[str, float]]:
    """The catalogue model with the best cross-validated score on (a sample of) the training rows, and the
    score of every model tried. The test rows are never used, so the proposal does not flatter the test score."""
    from workbench.models import models_for

    data = df[df[settings.target].notna()]
    if len(data) > SCREEN_ROWS:
        data = data.sample(SCREEN_ROWS, random_state=settings.split.seed)
    quick = replace(settings, split=replace(settings.split, folds=5 if len(data) < SMALL_TABLE else 3,
                                            repeats=cv_repeats(len(data))), params={})
    candidates = [m.id for m in models_for(settings.task)
                  if not m.baseline and not m.network and len(df) <= SCREEN_SKIP.get(m.id, 1e12)]
    scores: dict[str, float] = {}
    for i, model_id in enumerate(candidates):
        if report:
            report(i / len(candidates), model_id)
        score = cross_validate_params(data, recipe, replace(quick, model_id=model_id))
        if np.isfinite(score):
            scores[model_id] = score
    primary = PRIMARY[settings.task]
    best = min(scores, key=scores.get) if primary in LOWER_IS_BETTER else max(scores, key=scores.get)
    return best, scores


def learning_curve_data(df: pd.DataFrame, recipe: Recipe, settings: Settings,
                        sizes: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 1.0), model: Any = None) -> pd.DataFrame:
    """Training and validation score (mean, sd over the CV folds) by number of training rows."""
    from sklearn.model_selection import learning_curve

    train, _ = _training_rows(df, recipe, settings)
    pipeline = build_pipeline(recipe, settings.model_id, settings.task, settings.params, settings.split.seed,
                              settings.balanced, model)
    primary = PRIMARY[settings.task]
    cv = cv_splitter(settings.task, replace(settings.split, repeats=1))
    fittable(pipeline, train[settings.target])
    with threadpool_limits(limits=1):
        rows, fit_scores, valid_scores = learning_curve(
            pipeline, train.drop(columns=[settings.target]), train[settings.target], train_sizes=list(sizes), cv=cv,
            scoring=CV_SCORING[primary], shuffle=True, random_state=settings.split.seed, error_score=np.nan)
    sign = cv_sign(primary)
    fit_scores, valid_scores = sign * fit_scores, sign * valid_scores
    return pd.DataFrame({"rows": rows, "train_mean": np.nanmean(fit_scores, axis=1),
                         "train_sd": np.nanstd(fit_scores, axis=1), "valid_mean": np.nanmean(valid_scores, axis=1),
                         "valid_sd": np.nanstd(valid_scores, axis=1)})
