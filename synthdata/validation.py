"""Parameter checks shared by the library's entry points, in scikit-learn's message style.

One template for every bad parameter: *"The 'epochs' parameter of CTGAN must be an int in
[1, inf). Got 0 instead."* Synthesizer parameters are pydantic models (each backend's
``Params``); :func:`check_model` validates a mapping against one and lists every problem at
once, each phrased from the field's own bounds (:func:`domain`), so a bound is written once.
The library names parameters; only the CLI translates them into flag names.
"""

from __future__ import annotations

import math
import os
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from synthdata.errors import ParameterError

MAX_SEED = 2**32 - 1  # numpy's limit
INT_DOMAIN = "an int in [1, inf)"


def _is_int(value: Any) -> bool:
    import numpy as np

    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def derived_seed(seed: int, index: int) -> int:
    """The seed of chunk ``index`` of a job seeded with ``seed``: a function of the two alone,
    so a chunk's rows do not depend on which worker made it or on the chunks before it."""
    import numpy as np

    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0]) % (MAX_SEED + 1)


def check_seed(seed: Any, owner: str | None = None) -> int:
    """``seed`` as an int in [0, MAX_SEED], or ParameterError."""
    if not _is_int(seed) or not 0 <= seed <= MAX_SEED:
        raise ParameterError(message("seed", owner, f"an int in [0, {MAX_SEED}]", seed),
                             param="seed")
    return int(seed)


def check_count(name: str, value: Any, owner: str | None = None) -> int:
    """A positive int (rows, epochs, ...), or ParameterError."""
    if not _is_int(value) or value < 1:
        raise ParameterError(message(name, owner, INT_DOMAIN, value), param=name)
    return int(value)


def check_fraction(name: str, value: Any, owner: str | None = None) -> float:
    """A float in the open interval (0, 1), or ParameterError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1 \
            or not math.isfinite(value):
        raise ParameterError(message(name, owner, "a float in (0, 1)", value), param=name)
    return float(value)


def check_path(name: str, value: Any, owner: str | None = None) -> Path:
    """A non-empty path (an empty one would quietly mean the current folder)."""
    if isinstance(value, bool) or not isinstance(value, str | os.PathLike) \
            or not str(value).strip():
        raise ParameterError(message(name, owner, "a non-empty path", value)
                             + " An empty path would mean the current folder; name a folder "
                             "or file, e.g. 'run1'", param=name)
    return Path(value)


def check_choice(name: str, value: Any, choices: tuple[str, ...], owner: str | None = None
                 ) -> str:
    if value not in choices:
        raise ParameterError(message(name, owner, f"one of {', '.join(choices)}", value),
                             param=name)
    return str(value)


def message(name: str, owner: str | None, domain_text: str, value: Any) -> str:
    of = f" of {owner}" if owner else ""
    return f"The '{name}' parameter{of} must be {domain_text}. Got {value!r} instead."


# ---- pydantic parameter models ------------------------------------------------------------
def _bounds(info: FieldInfo) -> tuple[str, str]:
    low, high = "(-inf", "inf)"
    for item in info.metadata:
        if getattr(item, "ge", None) is not None:
            low = f"[{item.ge:g}"
        if getattr(item, "gt", None) is not None:
            low = f"({item.gt:g}"
        if getattr(item, "le", None) is not None:
            high = f"{item.le:g}]"
        if getattr(item, "lt", None) is not None:
            high = f"{item.lt:g})"
    return low, high


def _type_text(annotation: Any, info: FieldInfo | None) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        kept = [a for a in args if a is not type(None)]
        text = " or ".join(_type_text(a, info) for a in kept)
        return f"{text} or None" if len(kept) < len(args) else text
    if origin is typing.Literal:
        return "one of " + ", ".join(str(a) for a in args)
    if origin is list:
        inner = _type_text(args[0], None) if args else "value"
        plural = re.sub(r"^an? (int|float|bool)", r"\1s", inner)
        return f"a {'non-empty ' if _min_length(info) else ''}list of {plural}"
    if origin is dict:
        value_text = _type_text(args[1], None) if len(args) == 2 else "a value"
        return f"a mapping column -> {value_text.removeprefix('a ')}"
    if origin is typing.Annotated:
        return _type_text(args[0], FieldInfo.from_annotation(annotation))
    if annotation is bool:
        return "a bool"
    if annotation in (int, float):
        low, high = _bounds(info) if info is not None else ("(-inf", "inf)")
        return f"{'an int' if annotation is int else 'a float'} in {low}, {high}"
    return getattr(annotation, "__name__", str(annotation))


def _min_length(info: FieldInfo | None) -> bool:
    return info is not None and any(getattr(m, "min_length", None) for m in info.metadata)


def domain(model: type[BaseModel], name: str) -> str:
    """The field's domain in words, from its annotation and bounds: 'an int in [1, inf)'."""
    info = model.model_fields[name]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if "domain" in extra:  # a rule the annotation cannot say (e.g. 'divisible by pac')
        return str(extra["domain"])
    return _type_text(info.annotation, info)


def check_model(model: type[BaseModel], values: Mapping[str, Any], *, owner: str,
                context: dict[str, Any] | None = None) -> tuple[BaseModel | None, list[str]]:
    """Validate ``values`` against ``model``: (the model, []) or (None, every problem)."""
    try:
        return model.model_validate(dict(values), context=context), []
    except ValidationError as exc:
        problems: list[str] = []
        unknown = []
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            if err["type"] == "extra_forbidden":
                unknown.append(loc[0])
            elif not loc:  # a rule across fields (model_validator): its message is the problem
                problems.append(str(err["msg"]).removeprefix("Value error, "))
            elif loc[0] in model.model_fields:
                line = message(loc[0], owner, domain(model, loc[0]), values.get(loc[0]))
                if line not in problems:
                    problems.append(line)
            else:
                problems.append(f"{'.'.join(loc)}: {err['msg']}")
        if unknown:
            problems.insert(0, f"{owner} got unknown parameter(s) "
                               f"{', '.join(map(repr, sorted(unknown)))}. Valid parameters: "
                               f"{', '.join(sorted(model.model_fields)) or 'none'}.")
        return None, problems


def raise_problems(problems: list[str]) -> None:
    """One ParameterError naming every problem (a single problem reads as it is)."""
    if len(problems) == 1:
        raise ParameterError(problems[0])
    if problems:
        raise ParameterError(f"{len(problems)} parameter problems:\n"
                             + "\n".join(f"  - {p}" for p in problems))
