"""The built-in sample datasets in sample_data/, and the project a new workspace opens on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workbench.errors import UserError
from workbench.i18n import t
from workbench.io import read_table
from workbench.store import Dataset, Project, Store

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"


@dataclass(frozen=True)
class Sample:
    """A sample file, the task it suits, and the catalogue key of its description."""

    id: str
    filename: str
    task: str
    description_key: str


SAMPLES: list[Sample] = [
    Sample("titanic", "titanic.csv", "classification", "sample.titanic"),
    Sample("penguins", "penguins.csv", "classification", "sample.penguins"),
    Sample("mpg", "mpg.csv", "regression", "sample.mpg"),
    Sample("tips", "tips.csv", "regression", "sample.tips"),
    Sample("tips_ja", "tips_ja_cp932.csv", "regression", "sample.tips_ja"),
    Sample("flights", "flights.csv", "forecasting", "sample.flights"),
    Sample("co2", "ts_co2_weekly.csv", "forecasting", "sample.co2"),
    Sample("nile", "ts_nile_yearly.csv", "forecasting", "sample.nile"),
    Sample("sunspots", "ts_sunspots_yearly.csv", "forecasting", "sample.sunspots"),
    Sample("sms_spam", "sms_spam.csv", "text classification", "sample.sms_spam"),
]


def get_sample(sample_id: str) -> Sample:
    """Return the sample with this id."""
    for sample in SAMPLES:
        if sample.id == sample_id:
            return sample
    raise KeyError(sample_id)


def add_sample(store: Store, project_id: str, sample_id: str) -> Dataset:
    """Import a sample into a project through the same reader as an upload."""
    sample = get_sample(sample_id)
    raw = (SAMPLE_DIR / sample.filename).read_bytes()
    frame, report = read_table(raw, sample.filename)
    return store.add_dataset(project_id, sample.filename, raw, sample.filename, frame, report)


def ensure_workspace(store: Store, lang: str) -> Project:
    """Return the most recently opened project; a new workspace gets one holding the Titanic sample."""
    projects = store.list_projects()
    if projects:
        return projects[0]
    try:
        project = store.create_project(t("sample.project_name", lang=lang))
    except UserError:  # another session created it a moment ago
        return store.list_projects()[0]
    add_sample(store, project.id, "titanic")
    return store.get_project(project.id)
