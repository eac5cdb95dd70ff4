"""AutoML: a portfolio of strong catalogue defaults first, then a TPOT search beyond them, within a budget.

    portfolio (seconds)  ->  ensemble selection  ->  TPOT on Dask (the rest of the budget)  ->  ensemble selection
    again  ->  best validated candidate  ->  experiment

Every candidate is scored by the same cross-validation folds on the training
rows, so a portfolio model and a TPOT pipeline compete on equal terms, and a
usable result exists before TPOT finishes anything. Both search on the
model-ready features (the recipe, ModelReady and the preparation, fitted on the
training rows). The portfolio models and the best TPOT pipelines keep their
out-of-fold predictions; greedy ensemble selection (Caruana et al., 2004) looks
for a weighted average of them that scores better than any one, once the
portfolio is done and again at the end. On a small table the folds are
repeated, and each repeat's predictions kept apart (`stacked`). The
winner is trained like any hand-picked model, from the raw columns, and saved
as an ordinary experiment with its Python code.

TPOT has no progress callback or stop button: a watcher reads its population
while it runs (pipelines evaluated, failures, best score over time), and on
cancel or at the deadline tells the evolver its time is up, which ends the
search within seconds and keeps what was found.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone
from sklearn.pipeline import FeatureUnion, Pipeline
from threadpoolctl import threadpool_limits

from workbench.evaluation import (
    CV_SCORING,
    LOWER_IS_BETTER,
    PRIMARY,
    better,
    cv_sign,
    prediction_score,
)
from workbench.models import AUTOML
from workbench.recipe import Recipe
from workbench.tasks import BINARY, CLASSIFICATION, REGRESSION
from workbench.training import (
    SCREEN_SKIP,
    Settings,
    Split,
    _training_rows,
    cv_repeats,
    cv_splitter,
    cv_workers,
    feature_pipeline,
    train_experiment,
)


@dataclass(frozen=True)
class Config:
    """One portfolio entry: a catalogue model with hyperparameters over its defaults. `label` names it on the
    leaderboard: the model id for a family's first configuration, "lightgbm/2" for its second."""

    model_id: str
    params: tuple[tuple[str, Any], ...] = ()
    label: str = ""

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.params)


def _family(model_id: str, *configs: dict[str, Any]) -> list[Config]:
    return [Config(model_id, tuple(sorted(c.items())), model_id if i == 0 else f"{model_id}/{i + 1}")
            for i, c in enumerate(configs)]


# A zero-shot portfolio: configurations chosen in advance to work well together across many tables (after
# AutoGluon's published 2023 portfolio, mined on TabRepo's 200 tables), each family's strongest first. The first
# of each family probes the table; the rest follow in the order of the families' probe scores.
_LIGHTGBM = _family("lightgbm", {}, {"extra_trees": True},
                    {"learning_rate": 0.03, "num_leaves": 128, "colsample_bytree": 0.9, "min_child_samples": 3},
                    {"learning_rate": 0.015, "num_leaves": 16, "colsample_bytree": 0.56, "min_child_samples": 48,
                     "extra_trees": True},
                    {"learning_rate": 0.012, "num_leaves": 53, "colsample_bytree": 0.7, "min_child_samples": 14},
                    {"learning_rate": 0.034, "num_leaves": 127, "colsample_bytree": 0.83, "min_child_samples": 6,
                     "extra_trees": True},
                    {"learning_rate": 0.047, "num_leaves": 89, "colsample_bytree": 0.62, "min_child_samples": 56})
_FORESTS = {name: _family(name, {"n_estimators": 300}, {"n_estimators": 300, "max_features": 0.5})
            for name in ("extra_trees", "random_forest")}
# Every model the Model page's proposal screens is probed (the search never misses the model it would propose),
# the strong families first and the cheap ones after them.
_PROBES = {BINARY: ("lightgbm", "hist_gradient_boosting", "extra_trees", "logistic_regression", "random_forest",
                    "knn", "naive_bayes", "decision_tree", "svm"),
           REGRESSION: ("lightgbm", "hist_gradient_boosting", "extra_trees", "ridge", "random_forest", "knn",
                        "elastic_net", "lasso", "linear_regression", "decision_tree", "svm")}
FAMILIES = {"lightgbm": _LIGHTGBM, **_FORESTS}


def portfolio(task: str) -> list[Config]:
    """The portfolio of a task: one probe per family first, then the families' further configurations."""
    probes = _PROBES[REGRESSION if task == REGRESSION else BINARY]
    return [FAMILIES[m][0] if m in FAMILIES else Config(m, (), m) for m in probes] + \
        [c for m in probes for c in FAMILIES.get(m, [])[1:]]


PORTFOLIO_SHARE = 0.6  # no new portfolio configuration starts after this share of the budget
PILOT_ROWS = 2_000  # on a table with folds of 4x as many rows, a probe's time is foretold from a fit on this many
SLOW_PROBE = 0.25  # a probe foretold to take more of the portfolio's share than this runs after the others
MAX_ROUNDS = 3000  # boosting rounds a LightGBM configuration may use; early stopping finds how many it needs
PATIENCE = 50  # rounds without improvement before a fold's boosting stops
METRICS = {BINARY: ("roc_auc", "balanced_accuracy", "log_loss"), "multiclass": ("balanced_accuracy", "log_loss"),
           REGRESSION: ("rmse", "mae", "r2")}
PRESETS = ("fast", "linear", "trees", "full")
_MODELS = {
    "fast": {"c": ["LogisticRegression", "DecisionTreeClassifier", "GaussianNB", "KNeighborsClassifier"],
             "r": ["DecisionTreeRegressor", "KNeighborsRegressor", "ElasticNetCV", "LinearSVR"]},
    "trees": {"c": ["ExtraTreesClassifier", "RandomForestClassifier", "HistGradientBoostingClassifier",
                    "GradientBoostingClassifier", "DecisionTreeClassifier"],
              "r": ["ExtraTreesRegressor", "RandomForestRegressor", "HistGradientBoostingRegressor",
                    "GradientBoostingRegressor", "DecisionTreeRegressor"]},
}
_MODELS["full"] = {"c": sorted(set(_MODELS["fast"]["c"] + _MODELS["trees"]["c"] + ["SGDClassifier"])),
                   "r": sorted(set(_MODELS["fast"]["r"] + _MODELS["trees"]["r"] + ["SGDRegressor"]))}
log = logging.getLogger("workbench.automl")
MARGIN_S = 15.0  # stated margin over the budget (the final training of the winner)
TPOT_ROWS = 10_000  # training rows TPOT searches on (a random sample above this)
SEARCH_ROWS = 25_000  # training rows the portfolio and the ensemble search on; the winner is trained on all
GRACE_S = 4.0  # seconds TPOT gets to wind down after being told its time is up
ENSEMBLE_ROUNDS = 20  # greedy selection steps (a member chosen k times has weight k)
ENSEMBLE_POOL = 12  # the best candidates ensemble selection chooses among (as auto-sklearn's ensemble_nbest)
TPOT_MEMBERS = 3  # best distinct TPOT pipelines given out-of-fold predictions for the ensemble


@dataclass(frozen=True)
class AutoMLSettings:
    """What the user chose on the AutoML page."""

    target: str
    task: str
    metric: str = ""
    minutes: float = 2.0
    preset: str = "fast"
    folds: int = 5
    seed: int = 42

    @property
    def score_metric(self) -> str:
        return self.metric or PRIMARY[self.task]


@dataclass
class Candidate:
    """One pipeline tried: where it came from, its CV score, size and cost."""

    source: str  # "portfolio", "tpot" or "ensemble"
    name: str
    score: float
    complexity: int
    seconds: float
    found_at: float  # seconds into the search
    estimator: Any = None  # unfitted model step (a Config for the portfolio)
    oof: np.ndarray | None = field(default=None, repr=False)  # out-of-fold predictions (for the ensemble)

    def row(self) -> dict[str, Any]:
        return {"source": self.source, "name": self.name, "score": self.score, "complexity": self.complexity,
                "seconds": self.seconds, "found_at": self.found_at}


@dataclass
class Progress:
    """What the page shows while a search runs."""

    elapsed: float = 0.0
    remaining: float = 0.0
    evaluated: int = 0
    failures: int = 0
    failure_reasons: dict[str, int] = field(default_factory=dict)  # "error" / "timeout" -> pipelines
    best: float | None = None
    timeline: list[tuple[float, float]] = field(default_factory=list)  # (seconds, best score so far)
    leaderboard: list[dict[str, Any]] = field(default_factory=list)


def search_space(preset: str, task: str, n_classes: int, n_samples: int, n_features: int, seed: int) -> Any:
    """A TPOT search space of scikit-learn components only, so the winner is a plain scikit-learn pipeline."""
    from tpot.config import get_search_space
    from tpot.search_spaces.pipelines import SequentialPipeline

    kind = "r" if task == REGRESSION else "c"
    args = dict(n_classes=n_classes, n_samples=n_samples, n_features=n_features, random_state=seed)
    if preset == "linear":
        models = ["LogisticRegression", "SGDClassifier", "LinearDiscriminantAnalysis"] if kind == "c" else \
            ["ElasticNetCV", "LinearSVR", "SGDRegressor", "ARDRegression"]
        return SequentialPipeline([get_search_space(["StandardScaler", "RobustScaler", "MinMaxScaler"], **args),
                                   get_search_space(["SelectPercentile", "VarianceThreshold"], **args),
                                   get_search_space(models, **args)])
    models = get_search_space(_MODELS[preset][kind], **args)
    if preset == "full":
        return SequentialPipeline([get_search_space(["StandardScaler", "RobustScaler", "MinMaxScaler"], **args),
                                   get_search_space(["SelectPercentile", "VarianceThreshold", "PCA"], **args),
                                   models])
    return models


# ---------------------------------------------------------------- the pipeline TPOT found, made plain


def _is_identity(step: Any) -> bool:
    name = type(step).__name__
    if name in ("Passthrough", "SkipTransformer") or step == "passthrough":
        return True
    if isinstance(step, FeatureUnion):
        parts = [s for _, s in step.transformer_list]
        skipped = [p for p in parts if type(p).__name__ == "SkipTransformer"]
        kept = [p for p in parts if type(p).__name__ != "SkipTransformer"]
        return bool(skipped) and all(_is_identity(p) for p in kept) and len(kept) <= 1
    return False


def simplify(estimator: Any) -> Any:
    """TPOT's pipeline without its no-op steps (Passthrough, SkipTransformer unions); a single remaining step
    is returned alone."""
    if isinstance(estimator, Pipeline):
        steps = [(name, simplify(step)) for name, step in estimator.steps if not _is_identity(step)]
        if len(steps) == 1:
            return steps[0][1]
        return Pipeline(steps)
    return estimator


def complexity(estimator: Any) -> int:
    """Number of steps (transformers and models) in a pipeline."""
    if isinstance(estimator, Pipeline):
        return sum(complexity(step) for _, step in estimator.steps)
    if isinstance(estimator, FeatureUnion):
        return sum(complexity(step) for _, step in estimator.transformer_list)
    return 0 if _is_identity(estimator) else 1


def pipeline_code(estimator: Any) -> str:
    """Python code that rebuilds the (unfitted) estimator: imports, then `model = ...`."""
    classes: dict[str, str] = {}

    def collect(value: Any) -> None:
        if isinstance(value, BaseEstimator):
            module = ".".join(p for p in type(value).__module__.split(".") if not p.startswith("_"))
            classes[type(value).__name__] = module
            for inner in value.get_params(deep=False).values():
                collect(inner)
        elif isinstance(value, (list, tuple)):
            for inner in value:
                collect(inner)

    collect(estimator)
    imports = sorted(f"from {module} import {name}" for name, module in classes.items())
    shown = _plain_params(clone(estimator))
    return "\n".join(["import numpy as np", *imports, "", f"model = {shown.__repr__(N_CHAR_MAX=10**6)}", ""])


def _plain_params(estimator: Any) -> Any:
    """The estimator with numpy scalars among its (nested) parameters made plain Python: TPOT proposes
    np.str_('l1'), which the code would show as written."""
    estimator.set_params(**{name: value.item() for name, value in estimator.get_params(deep=True).items()
                            if isinstance(value, np.generic)})
    return estimator


# ---------------------------------------------------------------- out-of-fold predictions and ensembles


def out_of_fold(estimator: Any, Z: np.ndarray, y: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]],
                classes: np.ndarray | None, n_jobs: int = 1, stop: Callable[[], bool] = lambda: False,
                found: dict[str, Any] | None = None) -> np.ndarray:
    """Each row's prediction by the model fitted on the other folds (the folds in parallel threads, one core each):
    values for regression (classes None), else class probabilities with columns in `classes` order. With
    repeated folds, a row held out once per repeat, the repeats' predictions are stacked (row i of repeat r at
    r * len(y) + i; see `stacked`): each is one model's, as the final model is one model, where an average over
    the repeats would flatter a model that varies from fit to fit (a decision tree). Raises InterruptedError
    when `stop()` turns true before a fold starts (or, for a booster, between rounds).

    A LightGBM model stops boosting early: each fold boosts until its held-out rows stop improving, and every
    fold's predictions use the same number of rounds (the median of the folds' best), so that number is one
    hyperparameter chosen by cross-validation. It is written into `found` (n_estimators) for the final model."""
    boosted = type(estimator).__module__.startswith("lightgbm.")

    def one(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, Any, int]:
        if stop():
            raise InterruptedError
        model = clone(estimator)
        if not boosted:
            return test, model.fit(Z[train], y[train]), 0
        import lightgbm

        def halt(_: Any) -> None:
            if stop():
                raise InterruptedError

        model.set_params(n_estimators=MAX_ROUNDS).fit(
            Z[train], y[train], eval_X=(Z[test],), eval_y=(y[test],),
            callbacks=[lightgbm.early_stopping(PATIENCE, first_metric_only=True, verbose=False), halt])
        return test, model, int(model.best_iteration_ or MAX_ROUNDS)

    with threadpool_limits(limits=1):
        fitted = Parallel(n_jobs=n_jobs, prefer="threads")(delayed(one)(*fold) for fold in folds)
    rounds = {"num_iteration": max(1, int(np.median([best for _, _, best in fitted])))} if boosted else {}
    if boosted and found is not None:
        found["n_estimators"] = rounds["num_iteration"]
    every, places = stacked(y, folds)
    out = np.full((len(every),) if classes is None else (len(every), len(classes)), np.nan)
    for (test, model, _), (_, place) in zip(fitted, places):
        if classes is None:
            out[place] = model.predict(Z[test], **rounds)
        else:
            proba = np.zeros((len(test), len(classes)))
            proba[:, np.searchsorted(classes, model.classes_)] = model.predict_proba(Z[test], **rounds)
            out[place] = proba
    return out


def stacked(y: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]]) -> tuple[
        np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """The targets and folds that score stacked out-of-fold predictions: `y` once per repeat of the folds, and each
    fold's held-out rows in its repeat's copy (the r-th time a row is held out, it is row r * len(y) + i). With
    one repeat, `y` and the folds as they are."""
    seen = np.zeros(len(y), dtype=int)
    places = []
    for train, test in folds:
        places.append((train, test + seen[test] * len(y)))
        seen[test] += 1
    return np.tile(y, max(1, int(seen.max()))), places


def fold_score(metric: str, y: np.ndarray, predicted: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]],
               classes: np.ndarray | None) -> float:
    """Mean over the folds of the metric on each fold's out-of-fold predictions, as cross-validation scores."""
    return float(np.mean([prediction_score(metric, y[test], predicted[test], classes) for _, test in folds]))


def select_ensemble(metric: str, y: np.ndarray, predictions: list[np.ndarray],
                    folds: list[tuple[np.ndarray, np.ndarray]], classes: np.ndarray | None,
                    rounds: int = ENSEMBLE_ROUNDS, costs: list[float] | None = None,
                    budget: float = float("inf")) -> tuple[list[int], float]:
    """Greedy ensemble selection with replacement (Caruana et al., 2004): each round adds the member whose
    addition makes the average of the chosen predictions score best, and the best round is kept. With `costs`,
    a member not yet chosen is passed over when its cost would take the chosen members' total over `budget` (the
    ensemble must be trained in the time left). Ties on a metric of predicted classes (balanced accuracy, which
    many models bring to the same value) are broken by the log loss of the probabilities. Returns how many times
    each member was chosen (its weight) and the score of that weighted average."""
    counts = np.zeros(len(predictions), dtype=int)
    total = np.zeros_like(predictions[0])
    spent = 0.0
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    tie_break = classes is not None and metric == "balanced_accuracy"

    def rank(predicted: np.ndarray) -> tuple[float, float]:  # higher is better
        return (sign * fold_score(metric, y, predicted, folds, classes),
                -fold_score("log_loss", y, predicted, folds, classes) if tie_break else 0.0)

    best: tuple[list[int], tuple[float, float]] = ([0] * len(predictions), (-np.inf, -np.inf))
    for r in range(1, rounds + 1):
        allowed = [i for i in range(len(predictions))
                   if r == 1 or counts[i] or costs is None or spent + costs[i] <= budget]
        ranks = {i: rank((total + predictions[i]) / r) for i in allowed}
        pick = max(ranks, key=ranks.__getitem__)
        if costs is not None and not counts[pick]:
            spent += costs[pick]
        counts[pick] += 1
        total = total + predictions[pick]
        if ranks[pick] > best[1]:
            best = ([int(c) for c in counts], ranks[pick])
    return best[0], sign * best[1][0]


# ---------------------------------------------------------------- the search


def _tpot_rows(done: pd.DataFrame, objective: str, sign: float, start_wall: float) -> list[Candidate]:
    """Candidates from TPOT's finished pipelines (scores turned back into the metric's own sign)."""
    rows = []
    for _, r in done.iterrows():
        score = r.get(objective)
        if score is None or not np.isfinite(score):
            continue
        individual = r.get("Individual")
        try:
            plain = simplify(individual.export_pipeline())
        except Exception:  # a pipeline TPOT cannot export is skipped, not fatal
            continue
        if not isinstance(plain, BaseEstimator):
            continue
        seconds = float(r["Completed Timestamp"] - r["Submitted Timestamp"])
        name = " → ".join(type(s).__name__ for _, s in plain.steps) if isinstance(plain, Pipeline) else \
            type(plain).__name__
        rows.append(Candidate("tpot", name, sign * float(score), complexity(plain), seconds,
                              float(r["Completed Timestamp"] - start_wall), plain))
    return rows


class Search:
    """One AutoML search: run() it (in a job); progress() and cancel() may be called from other threads."""

    def __init__(self, df: pd.DataFrame, recipe: Recipe, settings: AutoMLSettings, client: Any = None,
                 n_jobs: int = 1) -> None:
        self.n_jobs = n_jobs
        self.df, self.recipe, self.settings, self.client = df, recipe, settings, for_tpot(client)
        self.candidates: list[Candidate] = []
        self.failures = 0
        self.failure_reasons: dict[str, int] = {}
        self.evaluated = 0
        self.timeline: list[tuple[float, float]] = []
        self._seen: set[Any] = set()
        self.tpot_error: BaseException | None = None
        self._matrix: tuple[np.ndarray, np.ndarray] | None = None
        self._training_count = 0  # training rows (the search may use a sample of them)
        self._fold_list: list[tuple[np.ndarray, np.ndarray]] | None = None
        self._planned = 0.0  # cost of the last ensemble selection's choice (its training is kept back for)
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._start = time.perf_counter()
        self._start_wall = time.time()
        self.deadline = self._start + settings.minutes * 60

    def cancel(self) -> None:
        """Stop at the next check (within a few seconds); what was found so far is kept."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _stop(self) -> bool:
        """Cancelled, or the time left is what training the best candidate so far needs."""
        return self._cancel.is_set() or time.perf_counter() >= self._search_end()

    def _search_end(self) -> float:
        """When the search must end so that the best candidate so far, or the ensemble the last selection chose,
        is trained within the budget."""
        best = self.best()
        return self.deadline - (self._final_seconds(max(self._cost(best), self._planned)) if best is not None
                                else 0.0)

    def _final_seconds(self, cost: float) -> float:
        """Seconds the winner's training takes, from its search cost: the search fitted its folds `n_jobs` at a
        time; the training fits them again and the final model, as many at a time as training uses (with a
        tenth more kept back)."""
        folds = self.settings.folds
        return 1.1 * cost * (folds + 1) / folds * min(self.n_jobs, folds) / cv_workers(self._training_count)

    def _failed(self, reason: str) -> None:
        """Count a pipeline that gave no score (under the lock), by why."""
        self.failures += 1
        self.failure_reasons[reason] = self.failure_reasons.get(reason, 0) + 1

    def _add(self, candidate: Candidate) -> None:
        with self._lock:
            best = self.best()
            self.candidates.append(candidate)
            if best is None or better(self.settings.score_metric, candidate.score, best.score):
                self.timeline.append((candidate.found_at, candidate.score))

    def ranked(self) -> list[Candidate]:
        """Every candidate, best first (on a tie, the ensemble first)."""
        sign = 1.0 if self.settings.score_metric in LOWER_IS_BETTER else -1.0
        return sorted(self.candidates, key=lambda c: (sign * c.score, c.source != "ensemble"))

    def best(self) -> Candidate | None:
        return self.ranked()[0] if self.candidates else None

    def progress(self) -> Progress:
        with self._lock:
            now = time.perf_counter()
            best = self.best()
            board = self.ranked()
            return Progress(now - self._start, max(0.0, self.deadline - now), len(self.candidates) + self.failures,
                            self.failures, dict(self.failure_reasons), best.score if best else None,
                            list(self.timeline), [c.row() for c in board[:50]])

    def run(self) -> Candidate:
        """Portfolio, then the ensemble of its models (a strong result within seconds), then TPOT until the
        search's end (the deadline less the winner's training) or a cancel, then the ensemble again with the best
        TPOT pipelines among its members."""
        self._portfolio()
        if not self._cancel.is_set():
            self._ensemble()
        if not self._stop():
            self._tpot()
            if not self._cancel.is_set():
                self._score_tpot_members()
                self._ensemble()
        best = self.best()
        if best is None:
            from workbench.errors import UserError

            raise UserError("automl.nothing_found")
        return best

    def _portfolio(self) -> None:
        """The portfolio's configurations, each scored from its out-of-fold predictions: one probe per family,
        then the families' further configurations, the best-scoring family's first. On a large table, a probe
        foretold to take more than a quarter of the portfolio's share (a forest on many rows) waits until the
        other families' further configurations have run, and its own after it."""
        self._features()
        configs = [c for c in portfolio(self.settings.task)
                   if self._training_count <= SCREEN_SKIP.get(c.model_id, float("inf"))]  # too slow to fit here
        probes = [c for c in configs if c.label == c.model_id]
        slow: dict[str, float] = {}  # probe -> its foretold seconds
        for i, config in enumerate(probes):
            if self._stop() or (i and time.perf_counter() > self._portfolio_end()):
                return
            foretold = self._foretold(config) if i else 0.0
            if foretold > SLOW_PROBE * PORTFOLIO_SHARE * self.settings.minutes * 60:
                slow[config.model_id] = foretold
                continue
            self._score_config(config)
        rank = {c.name: r for r, c in enumerate(self.ranked())}  # only the probes so far
        further = sorted(configs[len(probes):], key=lambda c: rank.get(c.model_id, len(rank)))
        waiting = [c for c in probes + further if c.model_id in slow]
        for config in [c for c in further if c.model_id not in slow] + waiting:
            if self._stop() or time.perf_counter() > self._portfolio_end():
                return
            probe = next((c for c in self.candidates if c.name == config.model_id), None)
            if config.label != config.model_id and probe is None:
                continue  # its family's probe did not run (or failed)
            if time.perf_counter() + (probe.seconds if probe else slow[config.model_id]) > self._portfolio_end():
                log.info("%s skipped: it would not finish in the portfolio's share", config.label)
                continue  # its own or its family's probe says so
            self._score_config(config)

    def _foretold(self, config: Config) -> float:
        """Seconds a probe's out-of-fold predictions are foretold to take on a large table: one fit and prediction
        on PILOT_ROWS rows, scaled to the folds' rows (as n log n, half again for safety) and their number (0 on
        a smaller table, where it just runs, and when the pilot fails, which the probe itself then reports)."""
        s = self.settings
        Z, labels = self._features()
        folds = self._folds()
        train, test = folds[0]
        if len(train) < 4 * PILOT_ROWS:
            return 0.0
        rows = np.random.default_rng(s.seed).choice(train, PILOT_ROWS, replace=False)
        began = time.perf_counter()
        try:
            with threadpool_limits(limits=1), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                catalogue_model(config.model_id, s.task, s.seed, config.settings).fit(Z[rows], labels[rows]).predict(
                    Z[test[:PILOT_ROWS]])
        except Exception:
            return 0.0
        scale = len(train) / PILOT_ROWS * np.log(len(train)) / np.log(PILOT_ROWS)
        return 1.5 * (time.perf_counter() - began) * scale * len(folds) / min(self.n_jobs, len(folds))

    def _portfolio_end(self) -> float:
        """No new portfolio configuration starts after this share of the budget."""
        return self._start + PORTFOLIO_SHARE * self.settings.minutes * 60

    def _score_config(self, config: Config) -> None:
        """One configuration's out-of-fold predictions, added as a candidate. A booster's configuration keeps the
        rounds early stopping chose, a fold's share more for the final model's rows."""
        s = self.settings
        found: dict[str, Any] = {}
        scored = self._out_of_fold(config.label, catalogue_model(config.model_id, s.task, s.seed, config.settings),
                                   found)
        if scored is None:
            return
        oof, score, seconds = scored
        if found:
            rounds = int(np.ceil(found["n_estimators"] * (1 + 1 / s.folds)))
            config = Config(config.model_id, tuple(sorted({**config.settings, "n_estimators": rounds}.items())),
                            config.label)
        self._add(Candidate("portfolio", config.label, score, 1, seconds, time.perf_counter() - self._start, config,
                            oof))

    def _out_of_fold(self, name: str, estimator: Any,
                     found: dict[str, Any] | None = None) -> tuple[np.ndarray, float, float] | None:
        """Out-of-fold predictions, their fold-mean score and the seconds taken; None (a failure counted) when the
        model cannot be scored: one failing model never ends the search."""
        s = self.settings
        Z, labels = self._features()
        began = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                oof = out_of_fold(estimator, Z, labels, self._folds(), self._classes(), self.n_jobs, self._stop,
                                  found)
            every, places = self._stacked()
            score = fold_score(s.score_metric, every, oof, places, self._classes())
        except InterruptedError:  # cancelled, or the time is up: not a failure
            return None
        except Exception as exc:
            log.warning("%s not scored: %r", name, exc)
            score = float("nan")
        if not np.isfinite(score):
            with self._lock:
                self._failed("error")
            return None
        return oof, score, time.perf_counter() - began

    def _folds(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The search's CV folds, repeated on a small table (as the Model page's proposal repeats them), so that
        the scores and the ensemble's weights are steadier; the first repeat's folds are the ones TPOT uses."""
        if self._fold_list is None:
            s = self.settings
            Z, labels = self._features()
            split = Split(folds=s.folds, seed=s.seed, repeats=self._repeats)
            self._fold_list = list(cv_splitter(s.task, split).split(Z, labels))
        return self._fold_list

    def _stacked(self) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """The targets and folds that score the search's (stacked) out-of-fold predictions."""
        return stacked(self._features()[1], self._folds())

    @property
    def _repeats(self) -> int:
        return cv_repeats(len(self._features()[0]))

    def _classes(self) -> np.ndarray | None:
        return None if self.settings.task == REGRESSION else np.unique(self._features()[1])

    def _features(self) -> tuple[np.ndarray, np.ndarray]:
        """The training rows as TPOT sees them: recipe, ModelReady and preparation (no scaling) applied."""
        if self._matrix is None:
            s = self.settings
            train, _ = _training_rows(self.df, self.recipe, Settings(s.target, s.task, "dummy",
                                                                       split=Split(folds=s.folds, seed=s.seed)))
            X, y = train.drop(columns=[s.target]), train[s.target]
            Z = np.asarray(feature_pipeline(self.recipe).fit_transform(X, y), dtype=float)
            # classes as codes 0..k-1, as TPOT encodes them (forests refuse class_weight="balanced" on "0"/"1" text)
            labels = np.unique(y.astype(str).to_numpy(), return_inverse=True)[1] if s.task in CLASSIFICATION else \
                y.to_numpy(dtype=float)
            self._training_count = len(Z)
            if len(Z) > SEARCH_ROWS:  # a large table is searched on a sample (every class kept)
                keep = np.sort(np.random.default_rng(s.seed).choice(len(Z), SEARCH_ROWS, replace=False))
                if s.task in CLASSIFICATION:
                    keep = np.union1d(keep, np.unique(labels, return_index=True)[1])
                Z, labels = Z[keep], labels[keep]
            self._matrix = (Z, labels)
        return self._matrix

    def _select(self, budget: float = float("inf")) -> tuple[list[tuple[Candidate, int]], float, float]:
        """Ensemble selection over the best candidates with out-of-fold predictions, the members' cost within
        `budget`: the chosen members with their weights, the ensemble's score and its cost. Only the best
        ENSEMBLE_POOL take part: a weak model's errors can fit a few rare rows of the folds (naive Bayes weighted
        15 of 20 on yeast's 34 positives: CV ROC AUC +0.004 over LightGBM alone, held-out -0.022)."""
        s = self.settings
        pool = [c for c in self.ranked() if c.oof is not None][:ENSEMBLE_POOL]
        if len(pool) < 2:
            return [], float("nan"), 0.0
        costs = [self._cost(c) for c in pool]
        every, places = self._stacked()
        weights, score = select_ensemble(s.score_metric, every, [c.oof for c in pool], places, self._classes(),
                                         costs=costs, budget=budget)
        return [(c, w) for c, w in zip(pool, weights) if w], score, sum(k for k, w in zip(costs, weights) if w)

    def _score_tpot_members(self) -> None:
        """Out-of-fold predictions on the search's folds for the best distinct TPOT pipelines, while there is time
        before the search's end, so they can join the ensemble; each is scored again on those folds (more of them
        than TPOT's own on a small table, so its score compares with the portfolio's)."""
        s = self.settings
        names, added = {c.name for c in self.ranked() if c.oof is not None}, 0
        for c in [c for c in self.ranked() if c.source == "tpot"]:
            if added == TPOT_MEMBERS or self._stop():
                break
            if c.name in names or self._search_end() - time.perf_counter() < 1.5 * self._repeats * self._cost(c):
                continue
            scored = self._out_of_fold(c.name, member_estimator(c, s.task, s.seed))
            if scored is not None:
                names.add(c.name)
                with self._lock:
                    c.oof, c.score = scored[0], scored[1]
                added += 1

    def _ensemble(self) -> None:
        """Greedy ensemble selection over the candidates' out-of-fold predictions, its members chosen among those
        that can be trained in the time left. The weighted average is offered when no single candidate scores
        better, and not again when an earlier selection found the same one. The time to train what was chosen is
        kept back from then on (the search ends that much earlier), so that a later selection is not left without
        the time to train its choice."""
        from sklearn.ensemble import VotingClassifier, VotingRegressor

        s = self.settings
        began = time.perf_counter()
        # the time left, as the members' search cost (which _final_seconds turns into training seconds)
        chosen, score, cost = self._select((self.deadline - began) / self._final_seconds(1.0))
        self._planned = cost if len(chosen) > 1 else 0.0
        best = self.best()
        # offered unless a single candidate scores better: an average of models that ties the best one (as on a
        # metric of predicted classes) is the safer choice on new rows
        if len(chosen) < 2 or best is None or better(s.score_metric, best.score, score):
            return
        name = " + ".join(f"{w}×{c.name}" if w > 1 else c.name for c, w in chosen)
        if any(c.source == "ensemble" and c.name == name for c in self.candidates):
            return  # the same average as before: it was found then
        members = [(f"m{i}", member_estimator(c, s.task, s.seed)) for i, (c, _) in enumerate(chosen)]
        w = [int(w) for _, w in chosen]
        model = VotingRegressor(members, weights=w) if s.task == REGRESSION else \
            VotingClassifier(members, voting="soft", weights=w)
        seconds = cost / max(1.0, self._training_count / len(self._features()[0]))  # as timed on the searched rows
        self._add(Candidate("ensemble", name, score, sum(c.complexity for c, _ in chosen),
                            seconds + time.perf_counter() - began, time.perf_counter() - self._start, model))

    def _cost(self, candidate: Candidate) -> float:
        """Seconds one pass of a candidate's K-fold cross-validation takes on all training rows (the search timed
        it on a sample of a large table, TPOT on its own sample; a portfolio model's time covers the repeats of
        the folds, TPOT's one pass; an ensemble's is its members' cost)."""
        searched = len(self._features()[0])
        seconds = candidate.seconds / (self._repeats if candidate.source == "portfolio" else 1)
        if candidate.source == "tpot":
            searched = min(searched, TPOT_ROWS)
        return seconds * max(1.0, self._training_count / searched)

    def _tpot(self) -> None:
        from tpot import TPOTEstimator

        s = self.settings
        Z, labels = self._features()
        if len(Z) > TPOT_ROWS:  # on large tables TPOT searches a sample, or it finishes nothing in a short budget
            keep = np.random.default_rng(s.seed).choice(len(Z), TPOT_ROWS, replace=False)
            Z, labels = Z[keep], labels[keep]
        # kept back: out-of-fold predictions for the best TPOT pipelines (as long as a portfolio model takes, each
        # twice over), and the winner's training
        typical = float(np.median([c.seconds for c in self.candidates])) if self.candidates else 5.0
        reserve = min(0.25 * s.minutes * 60, max(3.0, 2 * TPOT_MEMBERS * typical)) + self.deadline - \
            self._search_end()
        minutes = (self.deadline - time.perf_counter() - reserve) / 60
        if minutes <= 0.05:
            return
        space = search_space(s.preset, s.task, int(pd.Series(labels).nunique()), len(Z), Z.shape[1], s.seed)
        self._evolve(TPOTEstimator(
            search_space=space, scorers=[CV_SCORING[s.score_metric]], scorers_weights=[1],
            classification=s.task in CLASSIFICATION, cv=cv_splitter(s.task, Split(folds=s.folds, seed=s.seed)),
            max_time_mins=minutes, max_eval_time_mins=max(0.1, min(minutes / 3, 2.0)), n_jobs=self.n_jobs,
            processes=False, client=self.client or local_client(self.n_jobs), population_size=20, verbose=0,
            random_state=s.seed), Z, labels, self.deadline - reserve)

    def _evolve(self, estimator: Any, Z: np.ndarray, labels: np.ndarray, stop_at: float) -> None:
        """Run TPOT in a thread, taking in its pipelines each second, until it ends, or its time comes and it has
        had GRACE_S to wind down, or Stop is pressed (then at once)."""
        def fit() -> None:
            try:  # TPOT's own dask.compute calls find the cluster through the thread's current client: the
                # search's client is not the process's default one (nor is there a task context in this new thread)
                with estimator.client.as_current(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    estimator.fit(Z, labels)
            except BaseException as exc:  # logged; the portfolio result still stands
                self.tpot_error = exc
                log.warning("TPOT search stopped with an error: %r", exc)

        thread = threading.Thread(target=fit, name="workbench-tpot", daemon=True)
        thread.start()
        stopped = watched = None
        while thread.is_alive():
            thread.join(0.25)
            now = time.perf_counter()
            if self._cancel.is_set():  # Stop: what TPOT finished is kept, and it winds down on its own
                _time_up(estimator)
                break
            if watched is None or now - watched >= 1.0:
                self._watch(estimator)
                watched = now
            if stopped is None and now >= min(stop_at, self._search_end()):
                _time_up(estimator)
                stopped = now
            if stopped is not None and now - stopped > GRACE_S:
                # TPOT refits its own winner at the end, which we do not need: stop waiting for it
                log.info("TPOT did not end within %s s of its time; going on without it", GRACE_S)
                break
        self._watch(estimator, final=not thread.is_alive())

    def _watch(self, estimator: Any, final: bool = False) -> None:
        """Take in the pipelines TPOT finished since the last look."""
        evolver = getattr(estimator, "_evolver_instance", None)
        population = getattr(getattr(evolver, "population", None), "evaluated_individuals", None)
        if final and getattr(estimator, "evaluated_individuals", None) is not None:
            population = estimator.evaluated_individuals
        if population is None or "Completed Timestamp" not in population:
            return
        objective = population.columns[0]
        keys = list(zip(population["Submitted Timestamp"], population["Completed Timestamp"]))
        fresh = [key not in self._seen for key in keys]
        done = population[population["Completed Timestamp"].notna() & np.asarray(fresh, dtype=bool)]
        if done.empty:
            return
        self._seen.update(zip(done["Submitted Timestamp"], done["Completed Timestamp"]))
        scores = pd.to_numeric(done[objective], errors="coerce")
        failed = ~np.isfinite(scores.to_numpy(dtype=float))
        with self._lock:
            for value in done[objective][failed]:  # TPOT writes "TIMEOUT" or "INVALID" (the pipeline raised)
                self._failed("timeout" if str(value).upper() == "TIMEOUT" else "error")
        for candidate in _tpot_rows(done[~failed], objective, cv_sign(self.settings.score_metric),
                                    self._start_wall):
            self._add(candidate)


def _time_up(estimator: Any) -> None:
    """Tell TPOT's evolver that its time is up: the generation loop ends and evaluations stop waiting."""
    evolver = getattr(estimator, "_evolver_instance", None)
    if evolver is not None:
        evolver.max_time_mins = 0
        evolver.scheduled_timeout_time = time.time()
        evolver.generations = 0


def search_and_train(search: Search, on_tick: Callable[[bool], None], every: float = 1.0) -> tuple[Candidate, Any]:
    """Run the search in a thread, calling on_tick(searching) every `every` seconds while it runs (to show
    progress or pass on a cancel) and once with False when it ends; then train the winner like a hand-picked
    model (after a Stop without cross-validating it again: the search's folds scored it, and the person who
    pressed Stop is waiting). Returns the winning candidate and its Experiment."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["best"] = search.run()
        except BaseException as exc:  # handed back to the calling thread
            outcome["error"] = exc

    runner = threading.Thread(target=run, name="workbench-automl", daemon=True)
    runner.start()
    while runner.is_alive():
        runner.join(every)
        on_tick(runner.is_alive())
    if "error" in outcome:
        raise outcome["error"]
    best = outcome["best"]
    final, model = final_settings(search.settings, best)
    return best, train_experiment(search.df, search.recipe, final, model, cross_validate=not search.cancelled)


def member_estimator(candidate: Candidate, task: str, seed: int) -> Any:
    """An unfitted model for a candidate, as it runs after the (unscaled) preparation."""
    if candidate.source != "portfolio":
        return clone(candidate.estimator)
    config = candidate.estimator
    return catalogue_model(config.model_id, task, seed, config.settings)


def catalogue_model(model_id: str, task: str, seed: int, params: dict[str, Any] | None = None) -> Any:
    """A catalogue model with `params` over its defaults, scaled when it needs it, as it runs after the
    preparation."""
    from sklearn.preprocessing import StandardScaler

    from workbench.models import CATALOGUE

    spec = CATALOGUE[model_id]
    model = spec.estimator(task, params, seed)
    return Pipeline([("scale", StandardScaler()), ("model", model)]) if spec.scaled else model


def final_settings(settings: AutoMLSettings, best: Candidate) -> tuple[Settings, Any]:
    """The training settings of the winner, and its model step (None for a catalogue model)."""
    split = Split(folds=settings.folds, seed=settings.seed)
    if best.source == "portfolio":
        config = best.estimator
        return Settings(settings.target, settings.task, config.model_id, params=config.settings, split=split), None
    return Settings(settings.target, settings.task, AUTOML, split=split), clone(best.estimator)


_LOCAL: dict[int, Any] = {}
_LOCAL_LOCK = threading.Lock()


def local_client(workers: int) -> Any:
    """The client of this process's own Dask cluster of `workers` threads, for searches that run without a job
    cluster; started once and kept. TPOT would start a cluster per search and make its client the process's
    default: the next search's TPOT found that one too, and when the first (left to refit its winner alone)
    shut it down, the second lost every pipeline ("ConnectionPool is closed"). Closing a search's own cluster
    instead took up to 16 s (its workers finish what they run) or, in the background, broke the next search's."""
    with _LOCAL_LOCK:
        client = _LOCAL.get(workers)
        if client is None or client.status in ("closed", "closing"):
            from distributed import Client, LocalCluster

            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=False,
                                   silence_logs=logging.CRITICAL, memory_limit=None, dashboard_address=None)
            client = _LOCAL[workers] = Client(cluster, set_as_default=False)
        return client


def dask_client() -> Any:
    """The process's client of the cluster named by WORKBENCH_DASK_SCHEDULER (workbench.jobs.cluster, shared
    with the jobs, so a worker running many searches keeps one connection), made fit for TPOT; or None (the search
    then runs TPOT on `local_client`)."""
    from workbench.jobs import cluster

    return for_tpot(cluster())


def for_tpot(client: Any) -> Any:
    """Make a client of a remote scheduler fit for TPOT 1.1:
    - TPOT sizes its queue by `client.cluster.workers`, which such a client lacks: give it a stand-in that lists
      the scheduler's workers;
    - TPOT scatters the training rows to one worker, and when that worker dies every later pipeline is cancelled
      (a copy sent to each worker does not help: Dask's memory manager soon drops the spare copies). The rows
      are made a task instead, which the scheduler computes again on another worker if its worker dies."""
    if client is not None and client.cluster is None:
        from types import SimpleNamespace

        from distributed.core import Status

        client.cluster = SimpleNamespace(workers=client.scheduler_info().get("workers", {}) or {"worker": None},
                                         status=Status.running)
    if client is not None and not isinstance(client.scatter, functools.partial):
        client.scatter = functools.partial(_as_task, client)
    return client


def _as_task(client: Any, data: Any, **_: Any) -> Any:
    """A future of `data` that Dask can compute again (a scattered one it cannot). The function is one every
    worker can import (Dask needs toolz), not one of ours."""
    from toolz import identity

    return client.submit(identity, data, pure=True)
