"""One error family for what a person did wrong, shown in their language."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """Bad input from a person: a message key from the i18n catalogue plus its parameters.

    The key's text says what went wrong and what to do next. Programming errors
    are ordinary exceptions; they reach the log, never the page as a traceback.
    """

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self, lang: str | None = None) -> str:
        """Return the translated message."""
        from workbench.i18n import t

        return t(self.key, lang=lang, **self.params)

    def __str__(self) -> str:
        return self.message("en")
