"""Recipes: every edit kept as a new version, so undo is going back one."""

from __future__ import annotations

import sqlalchemy as sa

from workbench.store.access import Access
from workbench.store.base import next_number, projects, recipes, utc_now


class Recipes(Access):
    """Calls on recipe versions."""

    def save_recipe(self, project_id: str, recipe_json: str) -> int:
        """Keep a new version of the project's recipe (every edit is one); return its number."""
        self.get_project(project_id)
        self._require(project_id, "editor")
        with self._transaction() as db:
            version = next_number(db, project_id, recipes.c.version)
            db.execute(sa.insert(recipes).values(project_id=project_id, version=version, recipe=recipe_json,
                                                 created_at=utc_now()))
        return version

    def load_recipe(self, project_id: str) -> tuple[int, str | None]:
        """The latest recipe version and its JSON ((0, None) before the first edit)."""
        self._require(project_id, "viewer")
        with self._connect() as db:
            row = db.execute(sa.select(recipes.c.version, recipes.c.recipe).where(recipes.c.project_id == project_id)
                             .order_by(recipes.c.version.desc()).limit(1)).first()
        return (int(row.version), row.recipe) if row else (0, None)

    def undo_recipe(self, project_id: str) -> bool:
        """Go back to the recipe before the last edit; False when there is nothing to undo."""
        self._require(project_id, "editor")
        with self._transaction() as db:
            db.execute(sa.select(projects.c.id).where(projects.c.id == project_id).with_for_update())
            latest = db.execute(sa.select(sa.func.max(recipes.c.version))
                                .where(recipes.c.project_id == project_id)).scalar()
            if latest is None:
                return False
            db.execute(sa.delete(recipes).where(recipes.c.project_id == project_id, recipes.c.version == latest))
        return True
