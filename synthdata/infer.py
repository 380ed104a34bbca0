"""Draft a schema from a table, for a human to review.

Every guess a human should confirm (PII, kinds of small-valued numbers, ranges, target,
sensitive attributes) comes back as a note, and :func:`render_schema_yaml` writes those notes
as ``# REVIEW:`` comments beside the columns they concern.
"""

from __future__ import annotations

import json
import logging
import math
import re
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd

from synthdata.errors import DataError
from synthdata.pii import detect_pii
from synthdata.schema import (
    Column,
    ColumnKind,
    GateConfig,
    PiiStrategy,
    Schema,
    SplitConfig,
    SynthesizerConfig,
)

__all__ = ["infer_schema", "infer_schema_file", "render_schema_yaml"]

logger = logging.getLogger(__name__)

MAX_CATEGORIES = 50
MAX_LOW_CARD_NUMBERS = 10
MIN_DATE_SHARE = 0.95
DATE_SAMPLE_SIZE = 2000
RANGE_NOTE = "observed range; widen if the real domain is larger"
INFERRED_NOTE = ("inferred: true: the range, categories and nullable: false above were seen in "
                 "this sample, so synthetic rows keep to them but other input may go beyond; "
                 "delete 'inferred: true' once reviewed to refuse rows outside them")

DATETIME_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S.%fZ",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%Y/%m/%d",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%d %b %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%B %d, %Y",
)
_BOOLEAN_WORDS = frozenset({"true", "false", "yes", "no", "t", "f", "y", "n"})
_TARGET_NAMES = (
    "target", "label", "class", "y", "outcome", "income", "churn", "churned", "is_churn",
    "default", "is_default", "is_fraud", "fraud",
)  # fmt: skip
_SENSITIVE_TOKENS = frozenset(
    "sex gender race ethnicity ethnic religion nationality disability disabled".split()
)
_AGE_QUALIFIERS = frozenset(
    "group band bracket range years yrs cat category bucket customer client person patient"
    " applicant employee member user respondent".split()
)
_SENSITIVE_PHRASES = ("native_country", "country_of_birth", "birth_country")
_NOT_TARGET_KINDS = (ColumnKind.id, ColumnKind.pii, ColumnKind.text, ColumnKind.datetime)


# ---- helpers -------------------------------------------------------------------------------


def _tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name))
    return [t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t]


def _id_named(name: str) -> bool:
    tokens = _tokens(name)
    return bool(tokens) and (
        tokens[-1] in {"id", "uuid", "guid"} or tokens[0] == "id" or tokens == ["key"]
    )


def _as_text(values: pd.Series) -> pd.Series:
    """Values as stripped text, missing (or empty) as None; integral floats print as ints."""

    def one(v: Any) -> str | None:
        if v is None or v is pd.NA or v is pd.NaT:
            return None
        if isinstance(v, float):
            if math.isnan(v):
                return None
            return str(int(v)) if v.is_integer() else repr(v)
        text = str(v).strip()
        return text or None

    return pd.Series(
        [one(v) for v in values.to_numpy(dtype=object)], index=values.index, dtype=object
    )


def _number_key(text: str) -> tuple[float, str]:
    return float(text), text


def _parse_dates(text: pd.Series, fmt: str) -> pd.Series:
    try:
        return pd.to_datetime(text, format=fmt, errors="coerce")
    except (ValueError, TypeError):  # e.g. mixed time zones under %z
        return pd.Series(pd.NaT, index=text.index)


def _detect_datetime_format(present: pd.Series) -> tuple[str | None, float, list[str]]:
    """The format most values parse with (if at least 95% do), its share, and the tied ones."""
    sample = present
    if len(sample) > DATE_SAMPLE_SIZE:
        sample = sample.sample(DATE_SAMPLE_SIZE, random_state=0)
    if not sample.str.contains(r"\d").mean() >= MIN_DATE_SHARE:
        return None, 0.0, []
    if sample.str.len().max() > 40:
        return None, 0.0, []
    shares = {fmt: float(_parse_dates(sample, fmt).notna().mean()) for fmt in DATETIME_FORMATS}
    best = max(shares.values())
    if best < MIN_DATE_SHARE:
        return None, best, []
    tied = [fmt for fmt, share in shares.items() if share == best]
    return tied[0], best, tied


def _range_bound(value: float, integer: bool) -> float | int:
    return int(value) if integer or float(value).is_integer() else float(value)


# ---- per-column inference ------------------------------------------------------------------


def _infer_datetime_dtype(values: pd.Series, nullable: bool) -> tuple[Column, list[str]]:
    present = values.dropna()
    # typed values are read back as their text form, "2020-01-31 00:00:00[.ffffff]"
    fractional = bool((present.dt.microsecond != 0).any() or (present.dt.nanosecond != 0).any())
    fmt = "%Y-%m-%d %H:%M:%S.%f" if fractional else "%Y-%m-%d %H:%M:%S"
    return Column(kind=ColumnKind.datetime, nullable=nullable, datetime_format=fmt), []


def _infer_column(name: str, values: pd.Series) -> tuple[Column, list[str]]:
    notes: list[str] = []
    text = _as_text(values)
    present = text.dropna()
    n = len(present)
    nullable = n < len(text)

    if n == 0:
        return Column(kind=ColumnKind.categorical, nullable=True), [
            "every value is empty; remove the column or provide values"
        ]
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return _infer_datetime_dtype(values, nullable)

    n_distinct = int(present.nunique())
    ratio = n_distinct / n
    if n_distinct == 1 and n > 1:
        notes.append(
            f"constant value {present.iloc[0]!r}; a synthesizer learns nothing from it: "
            "remove the column"
        )

    pii_type = detect_pii(name, values)
    if pii_type is not None:
        notes.append(
            f"PII ({pii_type.value}), never modelled: choose pii_strategy fake, hash or drop"
        )
        if pii_type.value == "free_text_id":
            notes.append("looks like a person-linked id; if it is only a row key, set kind: id")
        return (
            Column(
                kind=ColumnKind.pii,
                nullable=nullable,
                pii_type=pii_type,
                pii_strategy=PiiStrategy.fake,
            ),
            notes,
        )

    if set(present.str.lower().unique()) <= _BOOLEAN_WORDS:
        return Column(kind=ColumnKind.boolean, nullable=nullable), notes

    numbers = pd.to_numeric(present, errors="coerce")
    finite = numbers.abs() < math.inf  # False for NaN too
    leading_zero = present.str.match(r"^[+-]?0\d")
    if finite.all() and not leading_zero.any():
        return _infer_numeric(name, present, numbers, nullable, notes)
    if finite.all() and leading_zero.any():
        notes.append(
            "numbers with leading zeros (codes such as ZIP codes) are kept as text; "
            "set kind: integer if they are quantities"
        )
    elif finite.mean() >= 0.95:
        odd = present[~finite].unique()[:3]
        notes.append(
            f"mostly numbers, but {int((~finite).sum())} value(s) such as "
            f"{', '.join(repr(v) for v in odd)} are not; if they mean missing, blank them and "
            "infer again"
        )

    fmt, share, tied = _detect_datetime_format(present)
    if fmt is not None:
        if share < 1.0:
            bad = int(_parse_dates(present, fmt).isna().sum())
            notes.append(
                f"{bad} value(s) do not parse with datetime_format {fmt!r}; fix them or the format"
            )
        if len(tied) > 1:
            notes.append(
                f"day/month order is ambiguous (also fits {tied[1]!r}); confirm datetime_format"
            )
        return Column(kind=ColumnKind.datetime, nullable=nullable, datetime_format=fmt), notes

    return _infer_string(name, present, n, n_distinct, ratio, nullable, notes)


def _infer_numeric(
    name: str,
    present: pd.Series,
    numbers: pd.Series,
    nullable: bool,
    notes: list[str],
) -> tuple[Column, list[str]]:
    n = len(present)
    n_distinct = int(present.nunique())
    integral = bool((numbers % 1 == 0).all())
    if integral and _id_named(name) and n_distinct == n:
        return Column(kind=ColumnKind.id, nullable=nullable), notes
    # each value seen four times on average: a code or a count with few levels, not a measure
    if n_distinct <= MAX_LOW_CARD_NUMBERS and n_distinct * 4 <= n:
        categories = sorted(present.unique(), key=_number_key)
        notes.append(
            f"only {n_distinct} distinct numbers, so inferred categorical; set kind: "
            f"{'integer' if integral else 'numerical'} (with min/max) if they are quantities, "
            "or ordinal if they are ranks"
        )
        return (
            Column(kind=ColumnKind.categorical, nullable=nullable, categories=categories),
            notes,
        )
    kind = ColumnKind.integer if integral else ColumnKind.numerical
    if integral and _id_named(name):
        notes.append("named like an id but not unique; set kind: id if it is a key")
    notes.append(RANGE_NOTE)
    return (
        Column(
            kind=kind,
            nullable=nullable,
            min=_range_bound(numbers.min(), integral),
            max=_range_bound(numbers.max(), integral),
        ),
        notes,
    )


def _infer_string(
    name: str,
    present: pd.Series,
    n: int,
    n_distinct: int,
    ratio: float,
    nullable: bool,
    notes: list[str],
) -> tuple[Column, list[str]]:
    def categorical() -> tuple[Column, list[str]]:
        if n_distinct > MAX_CATEGORIES:
            notes.append(
                f"{n_distinct} categories; consider grouping rare ones, or kind id/text if the "
                "values are not categories"
            )
        return (
            Column(
                kind=ColumnKind.categorical,
                nullable=nullable,
                categories=sorted(present.unique()),
            ),
            notes,
        )

    if (n_distinct <= MAX_CATEGORIES and ratio < 0.5) or ratio <= 0.05:
        return categorical()

    no_space = float((~present.str.contains(r"\s")).mean())
    id_values = no_space >= 0.95 and int(present.str.len().max()) <= 64
    has_digits = bool(present.str.contains(r"\d").any())
    if id_values and n_distinct == n and (n > MAX_CATEGORIES or _id_named(name) or has_digits):
        return Column(kind=ColumnKind.id, nullable=nullable), notes

    words = present.str.split().str.len().mean()
    if words >= 3 or present.str.len().mean() >= 30:
        notes.append(
            "free text: never modelled; replaced by Faker sentences. Set kind: categorical if "
            "the values are categories"
        )
        return Column(kind=ColumnKind.text, nullable=nullable), notes

    if n_distinct <= MAX_CATEGORIES:
        return categorical()
    if id_values and (ratio >= 0.9 or _id_named(name)):
        notes.append(
            f"inferred id, but only {n_distinct} of {n} values are distinct; "
            "confirm kind: id or set categorical"
        )
        return Column(kind=ColumnKind.id, nullable=nullable), notes
    return categorical()


# ---- table-level guesses -------------------------------------------------------------------


def _guess_target(columns: dict[str, Column]) -> str | None:
    """A column named like a target; classes beat numbers ("churned" over "income")."""
    by_norm = {"_".join(_tokens(c)): c for c in columns}
    candidates = [
        (columns[column].kind in (ColumnKind.integer, ColumnKind.numerical), rank, column)
        for rank, norm in enumerate(_TARGET_NAMES)
        if (column := by_norm.get(norm)) is not None
        and columns[column].kind not in _NOT_TARGET_KINDS
    ]
    return min(candidates)[2] if candidates else None


def _is_sensitive(name: str) -> bool:
    tokens = _tokens(name)
    norm = "_".join(tokens)
    if _SENSITIVE_TOKENS.intersection(tokens) or any(
        re.search(rf"(?:^|_){p}(?:_|$)", norm) for p in _SENSITIVE_PHRASES
    ):
        return True
    # "age", "age_group", "customer_age" are a person's age; "housing_median_age" is not
    if "age" in tokens:
        others = set(tokens) - {"age"}
        return others <= _AGE_QUALIFIERS or tokens[0] == "age"
    return False


def infer_schema(df: pd.DataFrame, *, name: str = "table") -> tuple[Schema, dict[str, list[str]]]:
    """Draft a schema from a table, with notes on what a human must decide.

    Rules, in order, per column: PII (see :func:`synthdata.pii.detect_pii`) -> kind pii with
    ``pii_strategy: fake``; true/false/yes/no words -> boolean; numbers -> integer or numerical
    with the observed min/max, except at most 10 distinct numbers (each seen 4 times on average)
    -> categorical, and unique whole numbers in an id-named column -> id; strings that parse with
    one format in at least 95% of values -> datetime; strings with few distinct values (at most
    50 and under half the rows, or at most 5% of the rows) -> categorical with the sorted
    values; unique strings without spaces -> id; long or many-word strings -> text.

    ``target`` is guessed from names such as target, label, class, outcome, income, churn;
    ``sensitive`` from names such as sex, gender, race, age, religion, native-country;
    ``primary_key`` is a unique, non-null id column named ``id`` or ``*_id``.

    Args:
        df: The table, as text (as read with ``dtype=str``) or typed.
        name: The table name.

    Returns:
        The draft schema and notes: column name (``""`` for the table) -> comments for a human.

    Raises:
        DataError: The table has no columns, no rows, or duplicate column names.
    """
    labels = [str(c) for c in df.columns]
    problems = []
    if not labels:
        problems.append("expected at least one column, found none; provide a table with a header")
    dups = sorted({c for c in labels if labels.count(c) > 1})
    if dups:
        problems.append(
            f"duplicate column names {', '.join(repr(d) for d in dups)}; rename them so each "
            "is unique"
        )
    if len(df) == 0:
        problems.append(
            "expected at least one data row, found none; provide a table with data rows"
        )
    if problems:
        raise DataError(problems, source=f"table '{name}'")

    df = df.set_axis(labels, axis=1)
    notes: dict[str, list[str]] = {}
    columns: dict[str, Column] = {}
    for column in labels:
        columns[column], column_notes = _infer_column(column, df[column])
        col = columns[column]
        if col.kind not in (ColumnKind.pii, ColumnKind.text) and (
                col.min is not None or col.max is not None or col.categories
                or not col.nullable):  # seen in a sample: guides, but does not refuse input
            columns[column] = col.model_copy(update={"inferred": True})
            column_notes.append(INFERRED_NOTE)
        if column_notes:
            notes[column] = column_notes
        logger.debug("column %r: %s", column, columns[column].kind.value)

    target = _guess_target(columns)
    table_notes: list[str] = []
    if target is None:
        table_notes.append(
            "no target guessed; set 'target' to the column a model should predict, if any "
            "(enables ML-efficacy scores and a stratified holdout)"
        )
    else:
        notes.setdefault(target, []).append("guessed as target from its name; confirm")

    sensitive = [
        c for c in columns
        if _is_sensitive(c) and columns[c].kind not in (ColumnKind.pii, ColumnKind.id)
    ]  # fmt: skip
    for column in sensitive:
        notes.setdefault(column, []).append(
            "guessed sensitive (checked for bias) from its name; confirm"
        )
    if not sensitive:
        table_notes.append(
            "no sensitive attributes guessed; list protected attributes under 'sensitive' "
            "to get bias checks"
        )

    keys = [
        c
        for c in columns
        if columns[c].kind == ColumnKind.id
        and not columns[c].nullable
        and _id_named(c)
        and df[c].nunique(dropna=True) == len(df)
    ]
    keys.sort(key=lambda c: c.lower() != "id")
    primary_key = keys[0] if keys else None

    if table_notes:
        notes[""] = table_notes
    schema = Schema(
        name=name, columns=columns, target=target, sensitive=sensitive, primary_key=primary_key
    )
    for problem in schema.semantic_problems():  # e.g. every column PII: the draft says so
        logger.warning("inferred schema problem: %s", problem)
    return schema, notes


def infer_schema_file(
    path: str | Path, *, name: str | None = None
) -> tuple[Schema, dict[str, list[str]]]:
    """Read a CSV or Parquet table and draft its schema (see :func:`infer_schema`).

    CSV is read as text, with only empty fields as missing, as the rest of synthdata reads it.

    Args:
        path: A ``.csv`` (optionally compressed, e.g. ``.csv.gz``) or ``.parquet`` file.
        name: The table name; defaults to the file name without suffixes.

    Returns:
        The draft schema and its notes.

    Raises:
        DataError: The file is missing, unreadable, empty or has no data rows.
    """
    path = Path(path)
    from synthdata.io import read_raw

    source = f"table '{path}'"
    table_name = name or path.name.split(".")[0] or "table"
    df = read_raw(path)
    if len(df.columns) == 0 or len(df) == 0:
        found = "no columns" if len(df.columns) == 0 else "a header but no data rows"
        raise DataError(
            [
                f"expected a header row and at least one data row, found {found}; "
                "provide a table with data rows"
            ],
            source=source,
        )
    logger.info("inferring schema of %s (%d rows, %d columns)", path, len(df), len(df.columns))
    return infer_schema(df, name=table_name)


# ---- YAML rendering ------------------------------------------------------------------------

_HEADER = """\
# DRAFT schema for table {name}, inferred by 'synthdata schema infer'.
# Review it before use: kinds, categories and ranges are guesses from this data, and PII
# detection can miss columns. Each '# REVIEW:' comment marks a decision for a human.
# Reference: schemas/schema.json and the README.
"""
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_MAX_LINE = 100


def _scalar(value: Any) -> str:
    """One YAML scalar; strings always double-quoted so '1' and 'yes' stay strings."""
    import yaml

    if isinstance(value, str):
        dumped = yaml.safe_dump(value, default_style='"', width=10**9, allow_unicode=True)
    else:
        dumped = yaml.safe_dump(value, width=10**9, allow_unicode=True)
    return dumped.removesuffix("\n").removesuffix("\n...").strip()


def _key(name: str) -> str:
    import yaml

    if _PLAIN_KEY.match(name) and yaml.safe_load(name) == name:
        return name
    return _scalar(name)


def _flow_list(values: list[Any]) -> str:
    return "[" + ", ".join(_scalar(v) for v in values) + "]"


def _wrapped_list(values: list[Any], indent: int, prefix: str) -> list[str]:
    """A flow list over several lines; continuation lines sit deeper than their key."""
    items = [_scalar(v) for v in values]
    lines: list[str] = []
    current = " " * indent + prefix + "["
    pad = " " * (indent + 2)
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "]")
        if len(current) + len(piece) + 1 > _MAX_LINE and not current.endswith("["):
            lines.append(current.rstrip())
            current = pad
        current += piece + " "
    lines.append(current.rstrip())
    return lines


def _column_fields(col: Column) -> list[tuple[str, Any]]:
    fields: list[tuple[str, Any]] = [("kind", col.kind.value)]
    if not col.nullable:
        fields.append(("nullable", False))
    for field in ("min", "max"):
        value = getattr(col, field)
        if value is not None:
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            fields.append((field, value))
    if col.datetime_format is not None:
        fields.append(("datetime_format", col.datetime_format))
    if col.kind == ColumnKind.pii or col.pii_type is not None:
        if col.pii_type is not None:
            fields.append(("pii_type", col.pii_type.value))
        fields.append(("pii_strategy", col.pii_strategy.value))
    elif col.pii_strategy != PiiStrategy.fake:
        fields.append(("pii_strategy", col.pii_strategy.value))
    if col.description is not None:
        fields.append(("description", col.description))
    if col.inferred:
        fields.append(("inferred", True))
    if col.categories is not None:
        fields.append(("categories", list(col.categories)))
    return fields


def _plain_enum(value: Any) -> str:
    """Enum values written bare (``kind: integer``) as they are fixed identifiers."""
    return str(value)


def _render_column(name: str, col: Column) -> list[str]:
    fields = _column_fields(col)

    def render(field: str, value: Any) -> str:
        if field in ("kind", "pii_type", "pii_strategy"):
            return _plain_enum(value)
        if isinstance(value, list):
            return _flow_list(value)
        return _scalar(value)

    one_line = (
        f"  {_key(name)}: {{"
        + ", ".join(f"{field}: {render(field, value)}" for field, value in fields)
        + "}"
    )
    if len(one_line) <= _MAX_LINE:
        return [one_line]
    lines = [f"  {_key(name)}:"]
    for field, value in fields:
        if isinstance(value, list):
            lines.extend(_wrapped_list(value, 4, f"{field}: "))
        else:
            lines.append(f"    {field}: {render(field, value)}")
    return lines


def _render_block(label: str, model: Any, default: Any) -> list[str]:
    comment = "defaults; see README" if model == default else "see README"
    lines = [f"{label}:  # {comment}"]
    for field, value in model.model_dump(mode="json").items():
        if isinstance(value, dict):
            text = json.dumps(value, ensure_ascii=False)  # JSON is valid flow YAML
        elif isinstance(value, list):
            text = _flow_list(value)
        else:
            text = _scalar(value)
        lines.append(f"  {field}: {text}")
    return lines


def _comments(notes: list[str], indent: int) -> list[str]:
    lines = []
    pad = " " * indent
    for note in notes:
        wrapped = textwrap.wrap(" ".join(note.split()), width=_MAX_LINE - indent - 10) or [""]
        lines.append(f"{pad}# REVIEW: {wrapped[0]}")
        lines.extend(f"{pad}#   {more}" for more in wrapped[1:])
    return lines


def _with_comment(line: str, comment: str) -> list[str]:
    """``line  # comment``, or the comment on its own line above when that would be too long."""
    inline = f"{line}  # {comment}"
    if len(inline) <= _MAX_LINE:
        return [inline]
    return [f"# {comment}", line]


def render_schema_yaml(schema: Schema, notes: dict[str, list[str]]) -> str:
    """The schema as commented YAML: a draft header and ``# REVIEW:`` notes beside columns.

    Only non-default column fields are written; ``synthesizer``, ``split`` and ``gate`` are
    written out in full. The text loads back (``schema_from_dict(yaml.safe_load(text))``) to
    an equal schema.

    Args:
        schema: The schema to write.
        notes: Column name (``""`` for the table) -> notes, as from :func:`infer_schema`.

    Returns:
        YAML text.
    """
    lines = _HEADER.format(name=_scalar(schema.name)).splitlines()
    lines.extend(_comments(notes.get("", []), 0))
    lines.append(f"name: {_scalar(schema.name)}")
    if schema.description is not None:
        lines.append(f"description: {_scalar(schema.description)}")

    # an empty target or sensitive list is explained by the table notes above
    target = f"target: {_scalar(schema.target)}"
    if schema.target is not None:
        lines.extend(_with_comment(target, "REVIEW: guessed from its name; confirm, or set null"))
    else:
        lines.append(target)
    sensitive = f"sensitive: {_flow_list(schema.sensitive)}"
    if schema.sensitive:
        lines.extend(
            _with_comment(sensitive, "REVIEW: guessed from the names; confirm, add any missing")
        )
    else:
        lines.append(sensitive)
    if schema.quasi_identifiers is not None:
        lines.append(f"quasi_identifiers: {_flow_list(schema.quasi_identifiers)}")
    primary_key = f"primary_key: {_scalar(schema.primary_key)}"
    if schema.primary_key is not None:
        lines.extend(_with_comment(primary_key, "REVIEW: confirm this is the unique row id"))
    else:
        lines.append(primary_key)

    lines.append("columns:")
    for column, col in schema.columns.items():
        lines.extend(_comments(notes.get(column, []), 2))
        lines.extend(_render_column(column, col))

    lines.extend(_render_block("synthesizer", schema.synthesizer, SynthesizerConfig()))
    lines.extend(_render_block("split", schema.split, SplitConfig()))
    lines.extend(_render_block("gate", schema.gate, GateConfig()))
    return "\n".join(lines) + "\n"
