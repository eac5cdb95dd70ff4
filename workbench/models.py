"""The model catalogue: one entry per model, with its tasks, factory, hyperparameters and search space.

Adding a model is adding an entry to CATALOGUE. Hyperparameters carry types,
ranges and defaults; their labels and help live in the i18n catalogues under
hp.<name> and hp.<name>.help, model names under model.<id>.
"""

from __future__ import annotations

from functools import lru_cache

from dataclasses import dataclass
from typing import Any, Callable

from scipy.stats import loguniform, randint, uniform
from sklearn import dummy, ensemble, linear_model, naive_bayes, neighbors, svm, tree
from sklearn.calibration import CalibratedClassifierCV

from workbench.tasks import BINARY, CLASSIFICATION, MULTICLASS, REGRESSION, TEXT_CLASSIFICATION

DEFAULT_MODEL = "hist_gradient_boosting"


@dataclass(frozen=True)
class HyperParam:
    """One hyperparameter: int, float, choice or bool, with a default and a range."""

    name: str
    type: str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    log: bool = False  # search on a log scale

    def distribution(self) -> Any:
        """What a random search samples from."""
        if self.type == "int":
            return randint(int(self.low), int(self.high) + 1)
        if self.type == "float":
            return loguniform(self.low, self.high) if self.log else uniform(self.low, self.high - self.low)
        if self.type == "bool":
            return [True, False]
        return list(self.choices)

    def validate(self, value: Any) -> Any:
        """The value coerced to the parameter's type and clipped to its range."""
        if self.type == "int":
            return int(min(max(int(value), self.low), self.high))
        if self.type == "float":
            return float(min(max(float(value), self.low), self.high))
        if self.type == "bool":
            return bool(value)
        if self.type == "column":
            return str(value)
        return value if value in self.choices else self.default


@dataclass(frozen=True)
class ModelSpec:
    """A catalogue entry. `build(task, params, seed)` returns an unfitted estimator."""

    id: str
    tasks: tuple[str, ...]
    build: Callable[[str, dict[str, Any], int], Any]
    params: tuple[HyperParam, ...] = ()
    scaled: bool = False  # works best on standardised numbers (linear, distance and kernel models)
    class_weight: bool = False  # accepts class_weight="balanced"
    baseline: bool = False
    network: bool = False  # a Keras network: no CV folds in training (a validation split instead), reports epochs
    text: bool = False  # reads one raw text column itself (no preparation of the other columns)

    def defaults(self) -> dict[str, Any]:
        """The default hyperparameters."""
        return {p.name: p.default for p in self.params}

    def estimator(self, task: str, params: dict[str, Any] | None = None, seed: int = 0,
                  balanced: bool = False) -> Any:
        """An unfitted estimator with `params` (validated) over the defaults."""
        values = self.defaults()
        by_name = {p.name: p for p in self.params}
        for name, value in (params or {}).items():
            if name in by_name:
                values[name] = by_name[name].validate(value)
        model = self.build(task, values, seed)
        if balanced and self.class_weight and task in CLASSIFICATION:
            key = "class_weight" if "class_weight" in model.get_params() else "estimator__class_weight"
            model.set_params(**{key: "balanced"})
        return model

    def search_space(self) -> dict[str, Any]:
        """Distributions of the catalogue's own parameters, for sklearn's ParameterSampler; each sample is
        built with estimator(), which maps catalogue values (such as max_depth 0 = unlimited) to sklearn's."""
        return {p.name: p.distribution() for p in self.params if p.type != "column"}


def _depth(value: int) -> int | None:
    return None if value == 0 else value  # 0 means unlimited


_TREE = (HyperParam("max_depth", "int", 0, 0, 30), HyperParam("min_samples_leaf", "int", 1, 1, 50))
_FOREST = (HyperParam("n_estimators", "int", 200, 50, 500), HyperParam("max_depth", "int", 0, 0, 30),
           HyperParam("min_samples_leaf", "int", 1, 1, 20), HyperParam("max_features", "choice", "sqrt",
                                                                        choices=("sqrt", "log2", 0.5, 1.0)))
_BOOST = (HyperParam("learning_rate", "float", 0.1, 0.01, 0.3, log=True), HyperParam("max_iter", "int", 200, 50, 1000),
          HyperParam("max_leaf_nodes", "int", 31, 8, 128), HyperParam("l2_regularization", "float", 0.0, 0.0, 1.0))
_LIGHTGBM = (HyperParam("n_estimators", "int", 300, 10, 5000),
             HyperParam("learning_rate", "float", 0.05, 0.001, 0.5, log=True),
             HyperParam("num_leaves", "int", 31, 2, 1024), HyperParam("min_child_samples", "int", 20, 1, 500),
             HyperParam("colsample_bytree", "float", 1.0, 0.1, 1.0),
             HyperParam("reg_lambda", "float", 0.0, 0.0, 100.0), HyperParam("extra_trees", "bool", False))
_KNN = (HyperParam("n_neighbors", "int", 15, 1, 100), HyperParam("weights", "choice", "distance",
                                                                 choices=("uniform", "distance")))
_C = HyperParam("C", "float", 1.0, 1e-3, 1e3, log=True)
_ALPHA = HyperParam("alpha", "float", 1.0, 1e-4, 1e2, log=True)


def _forest(kind: str) -> Callable[[str, dict[str, Any], int], Any]:
    def build(task: str, p: dict[str, Any], seed: int) -> Any:
        cls = getattr(ensemble, f"{kind}{'Regressor' if task == REGRESSION else 'Classifier'}")
        return cls(n_estimators=p["n_estimators"], max_depth=_depth(p["max_depth"]),
                   min_samples_leaf=p["min_samples_leaf"], max_features=p["max_features"], random_state=seed, n_jobs=1)
    return build


def _tree(task: str, p: dict[str, Any], seed: int) -> Any:
    cls = tree.DecisionTreeRegressor if task == REGRESSION else tree.DecisionTreeClassifier
    return cls(max_depth=_depth(p["max_depth"]), min_samples_leaf=p["min_samples_leaf"], random_state=seed)


def _boost(task: str, p: dict[str, Any], seed: int) -> Any:
    cls = ensemble.HistGradientBoostingRegressor if task == REGRESSION else ensemble.HistGradientBoostingClassifier
    return cls(learning_rate=p["learning_rate"], max_iter=p["max_iter"], max_leaf_nodes=p["max_leaf_nodes"],
               l2_regularization=p["l2_regularization"], early_stopping=True, random_state=seed)


def _lightgbm(task: str, p: dict[str, Any], seed: int) -> Any:
    from lightgbm import LGBMClassifier, LGBMRegressor  # imported here: a bundle of another model does not need it

    cls = LGBMRegressor if task == REGRESSION else LGBMClassifier
    return cls(n_estimators=p["n_estimators"], learning_rate=p["learning_rate"], num_leaves=p["num_leaves"],
               min_child_samples=p["min_child_samples"], colsample_bytree=p["colsample_bytree"],
               reg_lambda=p["reg_lambda"], extra_trees=p["extra_trees"], random_state=seed, n_jobs=1, verbose=-1)


def _knn(task: str, p: dict[str, Any], seed: int) -> Any:
    cls = neighbors.KNeighborsRegressor if task == REGRESSION else neighbors.KNeighborsClassifier
    return cls(n_neighbors=p["n_neighbors"], weights=p["weights"])


def _network(task: str, p: dict[str, Any], seed: int) -> Any:
    from workbench.deep.tabular import NetworkClassifier, NetworkRegressor

    cls = NetworkRegressor if task == REGRESSION else NetworkClassifier
    return cls(seed=seed, **p)


def _text_linear(task: str, p: dict[str, Any], seed: int) -> Any:
    from workbench.deep.text import tfidf_model

    return tfidf_model(p["column"], p["analyzer"], p["C"])


def _text_network(task: str, p: dict[str, Any], seed: int) -> Any:
    from workbench.deep.text import network_model

    return network_model(seed=seed, **p)


_EPOCHS = (HyperParam("learning_rate", "float", 1e-3, 1e-4, 1e-1, log=True),
           HyperParam("batch_size", "choice", 256, choices=(32, 64, 128, 256, 512, 1024)),
           HyperParam("epochs", "int", 100, 1, 500), HyperParam("patience", "int", 8, 1, 50))
_NETWORK = (HyperParam("layers", "int", 2, 1, 4), HyperParam("units", "int", 128, 8, 512),
            HyperParam("dropout", "float", 0.1, 0.0, 0.6), *_EPOCHS)
_TEXT_NETWORK = (HyperParam("column", "column", ""),
                 HyperParam("architecture", "choice", "cnn", choices=("cnn", "lstm")),
                 HyperParam("units", "int", 64, 8, 256), HyperParam("dropout", "float", 0.2, 0.0, 0.6),
                 HyperParam("learning_rate", "float", 2e-3, 1e-4, 1e-1, log=True),
                 HyperParam("batch_size", "choice", 64, choices=(16, 32, 64, 128, 256)),
                 HyperParam("epochs", "int", 10, 1, 100), HyperParam("patience", "int", 2, 1, 20))

ALL = (BINARY, MULTICLASS, REGRESSION)

CATALOGUE: dict[str, ModelSpec] = {spec.id: spec for spec in [
    ModelSpec("dummy", ALL, lambda task, p, seed: dummy.DummyRegressor(strategy="mean") if task == REGRESSION
              else dummy.DummyClassifier(strategy="prior"), baseline=True),
    ModelSpec("logistic_regression", CLASSIFICATION,
              lambda task, p, seed: linear_model.LogisticRegression(C=p["C"], max_iter=2000),
              (_C,), scaled=True, class_weight=True),
    ModelSpec("linear_regression", (REGRESSION,), lambda task, p, seed: linear_model.LinearRegression(), scaled=True),
    ModelSpec("ridge", (REGRESSION,), lambda task, p, seed: linear_model.Ridge(alpha=p["alpha"]), (_ALPHA,),
              scaled=True),
    ModelSpec("lasso", (REGRESSION,), lambda task, p, seed: linear_model.Lasso(alpha=p["alpha"], max_iter=5000),
              (HyperParam("alpha", "float", 0.01, 1e-4, 1e1, log=True),), scaled=True),
    ModelSpec("elastic_net", (REGRESSION,),
              lambda task, p, seed: linear_model.ElasticNet(alpha=p["alpha"], l1_ratio=p["l1_ratio"], max_iter=5000),
              (HyperParam("alpha", "float", 0.01, 1e-4, 1e1, log=True), HyperParam("l1_ratio", "float", 0.5, 0.0, 1.0)),
              scaled=True),
    ModelSpec("knn", ALL, _knn, _KNN, scaled=True),
    # SVC(probability=True) is deprecated in scikit-learn 1.9; calibration gives the probabilities.
    ModelSpec("svm", ALL, lambda task, p, seed: svm.SVR(C=p["C"], kernel=p["kernel"]) if task == REGRESSION
              else CalibratedClassifierCV(svm.SVC(C=p["C"], kernel=p["kernel"], random_state=seed), ensemble=False),
              (_C, HyperParam("kernel", "choice", "rbf", choices=("rbf", "linear", "poly"))), scaled=True,
              class_weight=True),
    ModelSpec("decision_tree", ALL, _tree, _TREE, class_weight=True),
    ModelSpec("random_forest", ALL, _forest("RandomForest"), _FOREST, class_weight=True),
    ModelSpec("extra_trees", ALL, _forest("ExtraTrees"), _FOREST, class_weight=True),
    ModelSpec("hist_gradient_boosting", ALL, _boost, _BOOST, class_weight=True),
    ModelSpec("lightgbm", ALL, _lightgbm, _LIGHTGBM, class_weight=True),
    ModelSpec("naive_bayes", CLASSIFICATION, lambda task, p, seed: naive_bayes.GaussianNB(
        var_smoothing=p["var_smoothing"]), (HyperParam("var_smoothing", "float", 1e-9, 1e-12, 1e-3, log=True),),
        scaled=True),
    ModelSpec("neural_network", ALL, _network, _NETWORK, scaled=True, network=True),
    ModelSpec("text_linear", (TEXT_CLASSIFICATION,), _text_linear,
              (HyperParam("column", "column", ""), HyperParam("analyzer", "choice", "word", choices=("word", "char")),
               HyperParam("C", "float", 10.0, 1e-2, 1e3, log=True)), text=True),
    ModelSpec("text_network", (TEXT_CLASSIFICATION,), _text_network, _TEXT_NETWORK, network=True, text=True),
]}


def models_for(task: str) -> list[ModelSpec]:
    """The catalogue entries that handle `task`, the dummy baseline first."""
    return sorted((m for m in CATALOGUE.values() if task in m.tasks), key=lambda m: (not m.baseline, m.id))


AUTOML = "automl"  # the model id of a pipeline an AutoML search found (not a catalogue entry)


def i18n_keys() -> set[str]:
    """Catalogue keys of every model name, hyperparameter label and help."""
    keys = {f"model.{m}" for m in CATALOGUE} | {f"model.{AUTOML}"}
    for spec in CATALOGUE.values():
        params = [p for p in spec.params if p.type != "column"]
        keys |= {f"hp.{p.name}" for p in params} | {f"hp.{p.name}.help" for p in params}
    return keys


__all__ = ["AUTOML", "CATALOGUE", "DEFAULT_MODEL", "HyperParam", "ModelSpec", "i18n_keys", "models_for"]


@lru_cache(maxsize=1)
def _ids_by_class() -> dict[str, str]:
    ids: dict[str, str] = {}
    for spec in CATALOGUE.values():
        if spec.network or spec.text or spec.baseline:
            continue
        for task in spec.tasks:
            try:
                model = spec.estimator(task)
            except ImportError:  # a bundle without that model's package
                continue
            inner = model.get_params().get("estimator", model)  # a balanced wrapper names its model
            ids.setdefault(type(model).__name__, spec.id)
            ids.setdefault(type(inner).__name__, spec.id)
    return ids


def catalogue_id_of(class_name: str) -> str | None:
    """The catalogue model a scikit-learn class is (RandomForestClassifier -> random_forest), or None."""
    return _ids_by_class().get(class_name)
