"""The exception hierarchy: one root, one class per kind of failure the user must act on.

Each class declares, once, how it reaches the user: `exit_code` (the CLI's exit status; it
prints `error: <message>` without a traceback) and `http_status` (the web app's one exception
handler answers with it: JSON `{"detail": ...}` on API routes, the error page on HTML pages).
A subclass inherits both unless it says otherwise. Nothing raised on purpose becomes HTTP 500.
"""

from __future__ import annotations

from typing import ClassVar


class VerdikartError(Exception):
    """Root of every error verdikart raises on purpose; the CLI prints these without a traceback."""

    exit_code: ClassVar[int] = 2
    http_status: ClassVar[int] = 400


class SourceError(VerdikartError):
    """A source file is malformed, truncated, mislabelled or unreadable.

    The message always names the file, and where known the line and field.
    """

    http_status: ClassVar[int] = 422

    def __init__(
        self,
        path: object,
        problem: str,
        *,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path)
        self.problem = problem
        self.line = line
        self.field = field
        where = self.path
        if line is not None:
            where += f", line {line}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {problem}")


class DataValidationError(VerdikartError):
    """Input data (a company file, a side-stream record) broke a rule; lists every problem."""

    http_status: ClassVar[int] = 422

    def __init__(self, problems: list[str], *, source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        shown = "\n  ".join(self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"{head}{len(self.problems)} problem(s):\n  {shown}{more}")


class UnknownCodeError(VerdikartError):
    """A country, material, list, year or code that does not exist; the message lists what does."""

    http_status: ClassVar[int] = 404


class OfflineError(VerdikartError):
    """A download was needed but the network is not reachable."""

    http_status: ClassVar[int] = 503


class ExchangeError(VerdikartError):
    """A materialbørs operation was refused or invalid (e.g. a request that is no longer
    pending, an expiry in the past, a disclosure request on one's own stream)."""


class NotFoundError(ExchangeError):
    """The object does not exist, or the caller may not know that it exists."""

    http_status: ClassVar[int] = 404


class PermissionDeniedError(ExchangeError):
    """The caller is authenticated but not allowed to do this."""

    http_status: ClassVar[int] = 403
