"""Configuration from environment variables, read in one place with defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """The workbench's settings; see README.md for each variable."""

    home: Path
    max_upload_mb: int
    max_columns: int
    dask_scheduler: str | None
    admins: frozenset[str]  # e-mail addresses that see and manage every project when sign-in is on


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


def get_settings() -> Settings:
    """Return the settings from the current environment."""
    return Settings(
        home=Path(os.environ.get("WORKBENCH_HOME", "workspace")).expanduser().resolve(),
        max_upload_mb=_int_env("WORKBENCH_MAX_UPLOAD_MB", 200),
        max_columns=_int_env("WORKBENCH_MAX_COLUMNS", 2000),
        dask_scheduler=os.environ.get("WORKBENCH_DASK_SCHEDULER") or None,
        admins=frozenset(a.strip().lower() for a in os.environ.get("WORKBENCH_ADMINS", "").split(",") if a.strip()),
    )
