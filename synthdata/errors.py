"""Exception types. A failed gate is a result, not an exception."""

from __future__ import annotations


class SynthdataError(Exception):
    """Base class of every error synthdata raises on purpose."""


def _bullets(problems: list[str]) -> str:
    return "\n".join(f"  - {p}" for p in problems)


class SchemaError(SynthdataError, ValueError):
    """The schema is invalid. ``problems`` lists every problem, each with its fix."""

    def __init__(self, problems: list[str], source: str = "schema") -> None:
        self.problems = list(problems)
        self.source = source
        n = len(self.problems)
        super().__init__(
            f"{source} has {n} problem{'s' if n != 1 else ''}:\n{_bullets(self.problems)}"
        )


class DataError(SynthdataError, ValueError):
    """The table does not match its schema. ``problems`` lists every problem with its fix."""

    def __init__(self, problems: list[str], source: str = "table") -> None:
        self.problems = list(problems)
        self.source = source
        n = len(self.problems)
        super().__init__(
            f"{source} has {n} problem{'s' if n != 1 else ''}:\n{_bullets(self.problems)}"
        )


class ParameterError(SynthdataError, ValueError):
    """A synthesizer or pipeline parameter is out of its domain.

    ``param`` names the library parameter when one is at fault; the CLI shows its flag.
    """

    def __init__(self, message: str, *, param: str | None = None) -> None:
        self.param = param
        super().__init__(message)


class DeviceError(SynthdataError, ValueError):
    """The requested compute device is not available on this machine."""


class NotFittedError(SynthdataError, AttributeError):
    """A method that needs a fitted synthesizer was called before ``fit``."""


class UntrustedModelError(SynthdataError, PermissionError):
    """Loading a saved model would unpickle code and the caller has not opted in."""


class ModelFileError(SynthdataError, ValueError):
    """A saved model directory is incomplete, corrupted or from an unknown format."""


class MissingDependencyError(SynthdataError, ImportError):
    """An optional dependency needed for this feature is not installed."""
