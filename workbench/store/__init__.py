"""The workspace: a database (SQLite in WORKBENCH_HOME, or the PostgreSQL of WORKBENCH_DATABASE_URL) plus a
folder per project under WORKBENCH_HOME.

Every call takes its own short connection and transaction (SQLite: WAL mode, busy timeout, writers take the
lock at BEGIN), so several browser sessions, threads and processes can read and write at once. Files are
written to a temporary name and renamed into place before the database row that
points at them is committed, so a crash never leaves a row without its files.
One module per entity; Store gathers their calls.
"""

from __future__ import annotations

from workbench.store.access import ROLES, normalise_user, user_from_claims
from workbench.store.base import MAX_NAME, User
from workbench.store.datasets import Dataset, Datasets
from workbench.store.experiments import Experiments, StoredExperiment
from workbench.store.jobs import Jobs
from workbench.store.projects import Project, Projects
from workbench.store.recipes import Recipes
from workbench.store.versions import AliasMove, ModelVersion, Versions

__all__ = ["MAX_NAME", "ROLES", "AliasMove", "Dataset", "ModelVersion", "Project", "Store", "StoredExperiment", "User",
           "normalise_user", "user_from_claims"]


class Store(Projects, Datasets, Recipes, Experiments, Versions, Jobs):
    """The workspace at `home` (created on first use)."""
