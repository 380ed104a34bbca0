"""Reading tables against a schema, and atomic, formula-safe writing."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from synthdata.errors import DataError
from synthdata.schema import Schema

__all__ = [
    "atomic_dir",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "neutralise_formulas",
    "read_raw",
    "read_table",
    "sha256_file",
    "write_table",
]

CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def read_raw(path: str | Path) -> pd.DataFrame:
    """Read a CSV (as text, empty cell = missing) or Parquet file, with clear errors."""
    path = Path(path)
    source = f"table '{path}'"
    if not path.exists():
        raise DataError([f"file not found: expected a CSV or Parquet file at '{path}'; "
                         "check the path"], source=source)
    if path.is_dir():
        raise DataError([f"'{path}' is a folder; expected a CSV or Parquet file (`synthdata "
                         "run` also reads a folder of Parquet files as one dataset)"],
                        source=source)
    name = path.name.lower()
    is_csv = name.endswith(CSV_SUFFIXES)
    if not is_csv and not name.endswith(PARQUET_SUFFIXES):
        suffix = "".join(path.suffixes) or "(none)"
        raise DataError(
            [f"expected a .csv or .parquet file, found suffix '{suffix}'; "
             "save the table as CSV or Parquet"],
            source=source,
        )
    if is_csv:
        if path.stat().st_size == 0 or (not name.endswith(".gz") and not _head(path).strip()):
            raise DataError(
                ["the file is empty; expected a header row and data rows; "
                 "check that the export wrote the data"],
                source=source,
            )
        sep = "\t" if ".tsv" in name else ","
        _check_bytes(path, source)
        try:
            _check_header(pd.DataFrame(), source, _header(path, sep))
            df = pd.read_csv(
                path, dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=True,
                sep=sep,
            )
        except pd.errors.EmptyDataError:
            raise DataError(
                ["the file is empty; expected a header row and data rows; "
                 "check that the export wrote the data"],
                source=source,
            ) from None
        except pd.errors.ParserError as exc:
            raise DataError(
                [f"not a well-formed CSV: {str(exc).strip()}; fix the quoting or row lengths"],
                source=source,
            ) from None
        except UnicodeDecodeError:
            raise DataError(
                ["expected UTF-8 text, found bytes in another encoding; re-save the file "
                 "as UTF-8"],
                source=source,
            ) from None
        except (OSError, EOFError) as exc:  # e.g. a gzip stream cut short
            raise DataError(
                [f"could not read the file ({type(exc).__name__}: {exc}); check that it was "
                 "written completely, or export it again"],
                source=source,
            ) from None
        _check_delimiter(df, source)
        _check_header(df, source)
        return df
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(
            [f"not a readable Parquet file ({type(exc).__name__}: {exc}); "
             "check the file or export it again"],
            source=source,
        ) from None
    _check_header(df, source)
    return df


def _head(path: Path, n: int = 4096) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(n)


def _open_binary(path: Path) -> Any:
    """The file's bytes (decompressed for ``.gz``); a ``.gz`` that is not gzip is bad input."""
    import gzip

    if not path.name.lower().endswith(".gz"):
        return open(path, "rb")  # noqa: SIM115 (returned to a with-block)
    with open(path, "rb") as raw:
        magic = raw.read(2)
    if magic != b"\x1f\x8b":
        raise DataError(
            [f"the name ends in .gz but the file is not gzip-compressed (it starts with "
             f"{magic!r}, gzip files start with b'\\x1f\\x8b'); rename it without .gz, or "
             "compress it with gzip"],
            source=f"table '{path}'")
    return gzip.open(path, "rb")


def _check_bytes(path: Path, source: str) -> None:
    """Refuse NUL bytes before parsing: the CSV parser cuts a cell at the first one, so
    ``a\\0DROP TABLE`` would silently become ``a``."""
    line = 1
    try:
        with _open_binary(path) as handle:
            start = handle.read(4)
            handle.seek(0)
            if start[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(start) == 4 and (
                    start[1::2] == b"\0\0" or start[0::2] == b"\0\0")):
                raise DataError(["expected UTF-8 text, found UTF-16 (or UTF-32) text; re-save "
                                 "the file as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)"],
                                source=source)
            while chunk := handle.read(1 << 20):
                at = chunk.find(b"\0")
                if at >= 0:
                    line += chunk.count(b"\n", 0, at)
                    raise DataError(
                        [f"a NUL byte (\\0) at line {line}: expected text, found a binary "
                         "character that the CSV reader would silently cut the cell at; "
                         "remove the NUL bytes (e.g. tr -d '\\000') or check that this is "
                         "really a text table"], source=source)
                line += chunk.count(b"\n")
    except (OSError, EOFError) as exc:  # a gzip stream cut short, or not gzip after all
        raise DataError(
            [f"could not read the file ({type(exc).__name__}: {exc}); check that it was "
             "written completely, or export it again"], source=source) from None


def _header(path: Path, sep: str) -> list[str]:
    """The first record of a CSV as written (pandas renames repeated names to ``a.1``)."""
    import csv
    import io as _io

    with _open_binary(path) as handle:
        text = _io.TextIOWrapper(handle, encoding="utf-8-sig", errors="replace", newline="")
        return [h.strip() for h in next(csv.reader(text, delimiter=sep), [])]


def _check_header(df: pd.DataFrame, source: str, header: list[str] | None = None) -> None:
    """Every column name once: a repeated name would be renamed or dropped without a word."""
    names = [str(c) for c in (header if header is not None else df.columns)]
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    repeated = [f"'{n}' ({k} times)" for n, k in seen.items() if k > 1]
    if repeated:
        raise DataError(
            [f"duplicate column name(s) in the header: {', '.join(repeated)}; expected each "
             "name once: rename or drop the repeated columns"], source=source)


def _check_delimiter(df: pd.DataFrame, source: str) -> None:
    if len(df.columns) != 1:
        return
    header = str(df.columns[0])
    for sep, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
        if sep in header:
            raise DataError(
                [f"expected comma-separated values, found one column {header[:60]!r} that "
                 f"contains {label}; the file seems to use {sep!r} as delimiter: save it "
                 "comma-separated"],
                source=source,
            )


def read_table(
    table: str | Path | pd.DataFrame, schema: Schema, *, holdout: float | None = None,
    role: str = "real",
) -> pd.DataFrame:
    """Read ``table`` (CSV, Parquet or DataFrame) and type it per ``schema``.

    ``role``: ``"real"`` (a whole table to split), ``"part"`` (a train or holdout table) or
    ``"synthetic"`` (rows to score: only columns and types are checked).

    Raises:
        DataError: listing every problem (column, count, first bad row, fix).
    """
    if isinstance(table, pd.DataFrame):
        raw, source = table, "table"
        _check_header(raw, source)
    else:
        raw, source = read_raw(table), f"table '{table}'"
    return schema.validate_table(raw, holdout=holdout, source=source, role=role)


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)  # hard links too
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def check_inputs_kept(inputs: dict[str, Any], *, writes: list[Path],
                      replaces: tuple[Path, ...] = (), param: str) -> None:
    """No file a command writes over, renames or removes is one of its inputs.

    ``inputs``: label -> what the user gave (paths are checked; DataFrames and schema objects
    are not files). ``writes``: files the command may write or remove; ``replaces``: folders
    it may remove or replace whole. An input folder (a model) must not receive any output
    either. Raises :class:`ParameterError` naming ``param``, before any work.
    """
    from synthdata.errors import ParameterError

    for label, given in inputs.items():
        if not isinstance(given, str | os.PathLike) or not str(given).strip():
            continue
        source = Path(given)
        clash = next((w for w in writes if _same_file(w, source)), None)
        if clash is None:
            clash = next((f for f in replaces if _inside(source, f)), None)
        if clash is None and source.is_dir():
            clash = next((w for w in writes if _inside(w, source)), None)
        if clash is not None:
            raise ParameterError(
                f"the output '{clash}' would overwrite or remove the {label} '{source}' given "
                f"as input; expected {param} apart from the inputs: choose another {param}, "
                f"or move the {label} elsewhere first", param=param)


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ---- writing ------------------------------------------------------------------------------
def _umask_mode(base: int) -> int:
    """``base`` with the process umask applied (mkstemp/mkdtemp create 0600/0700 files)."""
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


def _tmp_sibling(path: Path, suffix: str = "") -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + ".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, _umask_mode(0o666))  # the final file gets the usual permissions
    return Path(tmp)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_sibling(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, _umask_mode(0o777))
    try:
        yield tmp
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / "x")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a single quote.

    Only text cells are touched, and a plain number written as text (a category ``-1``) is
    left alone: a spreadsheet reads it as that number, not as a formula.
    """
    out = df.copy()
    for name in out.columns:
        col = out[name]
        if not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
            continue
        if pd.api.types.is_bool_dtype(col):
            continue

        def fix(v: Any) -> Any:
            if (
                isinstance(v, str)
                and v.startswith(FORMULA_PREFIXES)
                and not _PLAIN_NUMBER.fullmatch(v)
            ):
                return "'" + v
            return v

        out[name] = col.map(fix).astype(col.dtype)
    return out


def write_table(
    df: pd.DataFrame, path: str | Path, *, fmt: str = "parquet", schema: Schema | None = None
) -> Path:
    """Write ``df`` atomically as Parquet (default) or formula-safe CSV.

    With ``schema``, CSV datetime columns are written in their ``datetime_format``, so the
    file reads back under the same schema.
    """
    path = Path(path)
    if fmt == "csv" and schema is not None:
        df = df.copy()
        for name, spec in schema.columns.items():
            if name in df.columns and spec.datetime_format and \
                    pd.api.types.is_datetime64_any_dtype(df[name]):
                df[name] = df[name].dt.strftime(spec.datetime_format).astype(object)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_sibling(path, suffix="." + fmt)
    try:
        if fmt == "csv":
            frame = neutralise_formulas(df)
            frame.columns = [
                "'" + c if c.startswith(FORMULA_PREFIXES) else c for c in map(str, frame.columns)
            ]
            frame.to_csv(tmp, index=False, lineterminator="\n")
        elif fmt == "parquet":
            df.to_parquet(tmp, index=False)
        else:
            raise ValueError(f"format must be 'parquet' or 'csv', got {fmt!r}")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


# ---- manifest signatures ----------------------------------------------------------------------
# A run signs its manifest with a key kept in the user's config folder, so `synthdata sample`
# can tell a model folder this user's synthdata wrote from a foreign or edited one before it
# unpickles anything (unpickling runs code).
KEY_ENV = "SYNTHDATA_CONFIG_DIR"


def _key_path() -> Path:
    base = os.environ.get(KEY_ENV) or os.path.join(
        os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config"),
        "synthdata")
    return Path(base) / "manifest.key"


def _manifest_key(create: bool) -> bytes | None:
    import secrets

    path = _key_path()
    if path.is_file():
        return path.read_bytes()
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # private to this user
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def _canonical(manifest: dict[str, Any]) -> bytes:
    body = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, default=str, separators=(",", ":")).encode()


def sign_manifest(manifest: dict[str, Any]) -> str:
    """HMAC-SHA256 of the manifest (without its signature) under this user's key."""
    import hmac

    key = _manifest_key(create=True)
    assert key is not None
    return hmac.new(key, _canonical(manifest), hashlib.sha256).hexdigest()


def manifest_is_ours(manifest: dict[str, Any]) -> bool:
    """True when the manifest carries a valid signature made with this user's key."""
    import hmac

    key = _manifest_key(create=False)
    signature = manifest.get("signature")
    if key is None or not isinstance(signature, str):
        return False
    expected = hmac.new(key, _canonical(manifest), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)
