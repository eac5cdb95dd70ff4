"""One error family for what a person did wrong, shown in their language."""

from __future__ import annotations

from typing import Any, Callable


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


def exit_status(action: Callable[[], object]) -> int:
    """Run a command-line action: 0 when it succeeds, 2 with a one-line message on standard error for bad
    input (UserError) or a file that cannot be read or written."""
    import sys

    from workbench.i18n import t

    try:
        action()
    except UserError as exc:
        print(t("cli.error", message=exc.message()), file=sys.stderr)
        return 2
    except OSError as exc:
        print(t("cli.error", message=t("cli.file_missing", path=exc.filename, reason=exc.strerror)),
              file=sys.stderr)
        return 2
    return 0
