"""The table zoo: real tables of shapes the samples do not have, as the bytes a person would upload.

Every table comes from a package that ships its data (scikit-learn, statsmodels), from sample_data/, or from
tests/data/zoo/ (public tables copied from the project's shared data; sources in tests/data/zoo/README.md).
A few are real tables made awkward the way real files are (Japanese headers in cp932, holes in every column,
dates written in several forms); each says how. Nothing here is invented data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from tests.conftest import DATA, SAMPLES

ZOO = DATA / "zoo"


@dataclass(frozen=True)
class Table:
    """One zoo table: how to get its upload bytes, its shapes, and the target a person would pick."""

    name: str
    load: Callable[[], tuple[bytes, str]]  # (bytes as uploaded, file name)
    shapes: frozenset[str]
    target: str  # what propose_target must propose
    lang: str = "en"  # the language its user works in (bundles and messages are made in it)


def _csv(frame: pd.DataFrame, encoding: str = "utf-8") -> bytes:
    return frame.to_csv(index=False).encode(encoding)


def _sklearn(loader: str, target_names: bool = False) -> Callable[[], tuple[bytes, str]]:
    def load() -> tuple[bytes, str]:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader)(as_frame=True)
        frame = bunch.frame.copy()
        if target_names:
            frame["target"] = np.asarray(bunch.target_names)[bunch.target]
        return _csv(frame), f"{loader[5:]}.csv"
    return load


def _statsmodels(name: str, index_as: str | None = None) -> Callable[[], tuple[bytes, str]]:
    def load() -> tuple[bytes, str]:
        import importlib

        frame = importlib.import_module(f"statsmodels.datasets.{name}").load_pandas().data
        if index_as:
            frame = frame.rename_axis(index_as).reset_index()
        return _csv(frame), f"{name}.csv"
    return load


def _file(path, rows: int | None = None) -> Callable[[], tuple[bytes, str]]:
    return lambda: (path.read_bytes(), path.name)


def _linnerud() -> tuple[bytes, str]:
    from sklearn.datasets import load_linnerud

    bunch = load_linnerud(as_frame=True)
    return _csv(pd.concat([bunch.data, bunch.target], axis=1)), "linnerud.csv"


def _fertility_wide() -> tuple[bytes, str]:
    """World Bank fertility rates turned to one row per year and one column per country (219 countries):
    a wide, tiny table with holes where a country has no figure for a year."""
    from statsmodels.datasets import fertility

    data = fertility.load_pandas().data.set_index("Country Name")
    years = [c for c in data.columns if c.isdigit()]
    wide = data[years].T.rename_axis("year").reset_index()
    wide["year"] = wide["year"].astype(int)
    wide = wide.dropna(axis=1, how="all")
    columns = [c for c in wide.columns if c not in ("year", "Japan")]
    return _csv(wide[["year", *columns, "Japan"]].dropna(subset=["Japan"])), "fertility_by_country.csv"


def _iris_japanese() -> tuple[bytes, str]:
    """Iris with Japanese column names and species names, saved as cp932 like a Japanese Excel export."""
    from sklearn.datasets import load_iris

    bunch = load_iris(as_frame=True)
    frame = bunch.data.set_axis(["がく片の長さ(cm)", "がく片の幅(cm)", "花弁の長さ(cm)", "花弁の幅(cm)"], axis=1)
    frame["品種"] = np.array(["ヒオウギアヤメ", "ブルーフラッグ", "バージニカ"])[bunch.target]
    return frame.to_csv(index=False, lineterminator="\r\n").encode("cp932"), "あやめ.csv"


def _titanic_holes() -> tuple[bytes, str]:
    """Titanic with a fifth of the cells of every column (the target too) emptied, seeded."""
    frame = pd.read_csv(SAMPLES / "titanic.csv").drop(columns=["alive"])
    rng = np.random.default_rng(15)
    for column in frame.columns:
        frame[column] = frame[column].astype(object).mask(rng.random(len(frame)) < 0.2)
    return _csv(frame), "titanic_holes.csv"


def _macro_mixed_dates() -> tuple[bytes, str]:
    """US quarterly macro data with its quarter-end date written three ways, as tables pasted together are."""
    from statsmodels.datasets import macrodata

    data = macrodata.load_pandas().data
    dates = pd.PeriodIndex.from_fields(year=data["year"].astype(int), quarter=data["quarter"].astype(int),
                                       freq="Q").to_timestamp(how="end")
    forms = [f"{d.year}年{d.month}月{d.day}日" if i % 3 == 0 else d.strftime("%Y/%m/%d" if i % 3 == 1 else "%Y-%m-%d")
             for i, d in enumerate(dates)]
    frame = data.drop(columns=["year", "quarter"]).assign(日付=forms)
    return _csv(frame[["日付", *[c for c in frame.columns if c != "日付"]]]), "macro_mixed_dates.csv"


def _digits() -> tuple[bytes, str]:
    from sklearn.datasets import load_digits

    frame = load_digits(as_frame=True).frame
    return _csv(frame.sample(500, random_state=0)), "digits.csv"


S = frozenset
TABLES = [
    Table("iris", _sklearn("load_iris"), S({"all-numeric", "integer-coded"}), "target"),
    Table("wine", _sklearn("load_wine"), S({"all-numeric", "integer-coded", "symbols in names"}), "target"),
    Table("breast_cancer", _sklearn("load_breast_cancer"), S({"all-numeric", "integer-coded", "binary"}), "target"),
    Table("diabetes", _sklearn("load_diabetes"), S({"all-numeric", "regression"}), "target"),
    Table("digits", _digits, S({"all-numeric", "many classes"}), "target"),
    Table("iris_names", _sklearn("load_iris", target_names=True), S({"all-numeric", "text target"}), "target"),
    Table("linnerud", _linnerud, S({"all-numeric", "tiny"}), "Pulse"),
    Table("longley", _statsmodels("longley"), S({"all-numeric", "tiny", "regression"}), "YEAR"),
    Table("stackloss", _statsmodels("stackloss"), S({"all-numeric", "tiny", "regression"}), "ACIDCONC"),
    Table("spector", _statsmodels("spector"), S({"all-numeric", "tiny", "integer-coded"}), "GRADE"),
    Table("cpunish", _statsmodels("cpunish"), S({"all-numeric", "tiny"}), "DEGREE"),
    Table("ccard", _statsmodels("ccard"), S({"all-numeric", "tiny", "numbers and yes/no"}), "OWNRENT"),
    Table("scotland", _statsmodels("scotland"), S({"all-numeric", "tiny"}), "COUTAX_FEMALEUNEMP"),
    Table("anes96", _statsmodels("anes96"), S({"all-numeric", "integer-coded"}), "logpopul"),
    Table("star98", _statsmodels("star98"), S({"all-numeric", "regression"}), "PERSPEN_PTRATIO_PCTAF"),
    Table("statecrime", _statsmodels("statecrime", index_as="state"), S({"tiny", "text id"}), "urban"),
    Table("grunfeld", _statsmodels("grunfeld"), S({"text column"}), "year"),
    Table("elnino", _statsmodels("elnino"), S({"all-numeric", "regression"}), "DEC"),
    Table("heart", _statsmodels("heart"), S({"all-numeric", "numbers and yes/no"}), "age"),
    Table("fertility_wide", _fertility_wide, S({"wide", "tiny", "missing values"}), "Japan"),
    Table("macro_mixed_dates", _macro_mixed_dates, S({"dates", "mixed date forms", "Japanese headers"}), "realint",
          lang="ja"),
    Table("car", _file(ZOO / "car.csv"), S({"all-text"}), "Class"),
    Table("haberman", _file(ZOO / "haberman.csv"), S({"all-numeric", "text target"}), "Class"),
    Table("ionosphere", _file(ZOO / "ionosphere.csv"), S({"all-numeric", "text target"}), "Class"),
    Table("kc2", _file(ZOO / "kc2.csv"), S({"numbers and yes/no", "symbols in names"}), "defects"),
    Table("pc1", _file(ZOO / "pc1.csv"), S({"numbers and yes/no", "boolean target"}), "defects"),
    Table("vehicle", _file(ZOO / "vehicle.csv"), S({"all-numeric", "text target"}), "Class"),
    Table("yeast", _file(ZOO / "yeast.csv"), S({"all-numeric", "text target"}), "Class"),
    Table("bank", _file(ZOO / "bank_marketing_600.csv"), S({"semicolons", "yes/no target", "text column"}), "y"),
    Table("taxis", _file(ZOO / "taxis_500.csv"), S({"dates", "missing values", "text column"}),
          "dropoff_borough"),
    Table("diamonds", _file(ZOO / "diamonds_600.csv"), S({"regression", "text column"}), "price"),
    Table("penguins", _file(SAMPLES / "penguins.csv"), S({"missing values", "text column"}), "species"),
    Table("mpg", _file(SAMPLES / "mpg.csv"), S({"missing values", "text column"}), "origin"),
    Table("titanic_holes", _titanic_holes, S({"missing values", "missing everywhere", "boolean columns"}),
          "survived"),
    Table("tips_ja", _file(SAMPLES / "tips_ja_cp932.csv"), S({"Japanese headers", "cp932", "yes/no column"}),
          "人数（1～6名）", lang="ja"),
    Table("iris_ja", _iris_japanese, S({"Japanese headers", "cp932", "Japanese labels"}), "品種", lang="ja"),
]
