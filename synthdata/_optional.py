"""Optional dependencies (extras): imported only where a feature needs them.

``require("ray", extra="ray", feature="--engine ray")`` returns the module, or raises
:class:`~synthdata.errors.MissingDependencyError` naming the feature and the install command,
so the CLI exits 2 with the fix before any work starts.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from synthdata.errors import MissingDependencyError


def install_command(extra: str) -> str:
    """The pip command that installs synthdata's optional ``extra``."""
    return f"pip install 'synthdata[{extra}]'"


def require(module: str, *, extra: str, feature: str) -> ModuleType:
    """``module`` imported, or MissingDependencyError with the command that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{feature} needs the optional package '{module}', which is not installed here "
            f"({exc}); install it with: {install_command(extra)}") from None
