"""Recipes: every edit kept as a new version, so undo is going back one."""

from __future__ import annotations

from workbench.store.base import StoreBase, utc_now


class Recipes(StoreBase):
    """Calls on recipe versions."""

    def save_recipe(self, project_id: str, recipe_json: str) -> int:
        """Keep a new version of the project's recipe (every edit is one); return its number."""
        self.get_project(project_id)
        with self._transaction() as db:
            row = db.execute("SELECT COALESCE(MAX(version), 0) FROM recipes WHERE project_id = ?",
                             (project_id,)).fetchone()
            version = int(row[0]) + 1
            db.execute("INSERT INTO recipes VALUES (?, ?, ?, ?)", (project_id, version, recipe_json, utc_now()))
        return version

    def load_recipe(self, project_id: str) -> tuple[int, str | None]:
        """The latest recipe version and its JSON ((0, None) before the first edit)."""
        with self._connect() as db:
            row = db.execute("SELECT version, recipe FROM recipes WHERE project_id = ? ORDER BY version DESC "
                             "LIMIT 1", (project_id,)).fetchone()
        return (int(row["version"]), row["recipe"]) if row else (0, None)

    def undo_recipe(self, project_id: str) -> bool:
        """Go back to the recipe before the last edit; False when there is nothing to undo."""
        with self._transaction() as db:
            row = db.execute("SELECT MAX(version) FROM recipes WHERE project_id = ?", (project_id,)).fetchone()
            if not row or row[0] is None:
                return False
            db.execute("DELETE FROM recipes WHERE project_id = ? AND version = ?", (project_id, row[0]))
        return True
