"""Big inputs: a folder of Parquet files read as one table, in memory bounded by a unit of
row groups (not by the table).

``run TABLE`` takes a folder (a Parquet *dataset*: every ``*.parquet`` file under it, in path
order, their rows one after the other) where a table would not fit in memory:

- :func:`open_dataset` reads only the files' footers (row counts, column names) and checks
  them against the schema before any data is read;
- :meth:`Dataset.scan` is one streamed pass: every value is checked as for a table (the
  schema's ``"batch"`` role), the whole-table checks (empty or constant columns, a unique
  primary key, two target classes, enough rows to split) are made over the stream, each row
  goes to the holdout or to training by a hash of (seed, row number), and two uniform samples
  are kept (bottom-k of another hash): :data:`FIT_SAMPLE_ROWS` training rows (and the
  :data:`SCORE_ROWS` of them with the smallest hashes) and :data:`SCORE_ROWS` holdout rows;
- a synthesizer that trains on batches (``Synthesizer.streams``) reads the training rows
  again, typed (:meth:`Reader.train` per unit, as engine tasks, or
  :meth:`Dataset.train_batches` here); the others fit on the training sample.

Both passes (the scan, and a streaming synthesizer's encoding pass) are cut into *units*:
consecutive Parquet row groups of at most :data:`UNIT_ROWS` rows (a bigger row group is a unit
of its own, which the encoding pass encodes in the driver), whose first row numbers the
footers give. Each unit is one task of an engine (``synthdata.execution``): in this process one
after another by default, over a local process pool with ``--workers``, over a Ray cluster with
``--engine ray`` (the workers read the files themselves: on a cluster the folder must be on
storage every node sees). A unit's results (counts, candidate sample rows, problems) merge
exactly, so every engine and worker count gives the same split, samples and findings. The
reading is pyarrow's, per row group, rather than Ray Data's ``read_parquet``: the split needs
each row's number in the dataset, which row groups carry from the footers, and the same task
functions then run on the local engine, which needs nothing installed.

The split is uniform per row, not stratified: with millions of rows every class keeps its
share to within a fraction of a percent. A row's part and its place in the samples depend on
its row number and the seed only, so the same folder and seed give the same split and samples
whatever the batch size. Only the modelled columns are read: PII and free-text columns never
reach a model (their presence is checked in the footers).
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthdata.errors import DataError
from synthdata.schema import ColumnKind, Schema, category_text, rows_needed

logger = logging.getLogger(__name__)

BATCH_ROWS = 65_536  # rows per streamed batch
UNIT_ROWS = 1_048_576  # rows per task of a pass (whole row groups; a bigger group is one unit)
FIT_SAMPLE_ROWS = 200_000  # uniform sample of training rows (tokenizer, non-streaming fits)
SCORE_ROWS = 50_000  # rows of train, holdout and synthetic that the scores compare
MAX_PROBLEMS = 20  # the scan stops after this many different problems
SUFFIXES = (".parquet", ".pq")

# independent hash streams of (seed, row number)
HOLDOUT_STREAM, SAMPLE_STREAM, VALIDATION_STREAM = 0, 1, 2


def is_dataset(table: Any) -> bool:
    """True when ``table`` names a folder (read as a Parquet dataset)."""
    return isinstance(table, str | Path) and Path(table).is_dir()


def row_uniforms(seed: int, stream: int, rows: np.ndarray) -> np.ndarray:
    """A number in [0, 1) per row number: SplitMix64 of (seed, stream, row). The same row
    always gets the same number, however the rows are batched."""
    with np.errstate(over="ignore"):
        x = (np.asarray(rows, dtype=np.uint64)
             + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
             + np.uint64(stream + 1) * np.uint64(0xD1B54A32D192ED03))
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(2**53)


@dataclass(frozen=True)
class Unit:
    """Consecutive row groups that one task of a pass reads; ``first`` is the number of its
    first row in the dataset."""

    index: int
    first: int
    rows: int
    groups: tuple[tuple[int, int], ...]  # (file number, row group number)


@dataclass(frozen=True)
class Reader:
    """What a task needs to read units: small and picklable (a Ray worker or a pool process
    gets it once per pass)."""

    schema: Schema
    folder: str
    files: tuple[str, ...]
    stamps: tuple[tuple[int, int], ...]
    batch_rows: int
    seed: int = 0
    holdout: float = 0.2

    @property
    def source(self) -> str:
        return f"dataset '{self.folder}'"

    def raw(self, unit: Unit) -> Iterator[tuple[int, pd.DataFrame]]:
        """(first row number, raw rows of the modelled columns) of each batch of ``unit``.

        Raises:
            DataError: one of its files changed since the footers were read, or cannot be
                read here (gone, or not on storage this worker sees).
        """
        import itertools
        import socket

        import pyarrow.parquet as pq

        first = unit.first
        columns = self.schema.modelled_columns
        for f, same_file in itertools.groupby(unit.groups, key=lambda fg: fg[0]):
            name = self.files[f]
            try:
                if _stamp(Path(name), strict=True) != self.stamps[f]:
                    raise _changed([name], self.source)
                handle = pq.ParquetFile(name)  # opened once for its row groups in the unit
            except OSError as exc:
                raise DataError([
                    f"file '{name}' could not be read on host '{socket.gethostname()}' "
                    f"({type(exc).__name__}: {exc}); expected every file of the dataset "
                    "readable by every worker for the whole run: on a cluster put the folder "
                    "on storage every node sees (the same path on each), and do not move or "
                    "delete its files during a run"], source=self.source) from exc
            with handle:
                for _, group in same_file:  # batches never span two row groups
                    for batch in handle.iter_batches(batch_size=self.batch_rows,
                                                     row_groups=[group], columns=columns):
                        frame = batch.to_pandas()
                        yield first, frame
                        first += len(frame)

    def typed(self, unit: Unit) -> Iterator[tuple[np.ndarray, pd.DataFrame, np.ndarray]]:
        """(row numbers, typed rows, holdout mask) of each batch of ``unit``."""
        for first, raw in self.raw(unit):
            typed, problems = self.schema.conform(raw, role="batch")
            if problems:  # the scan saw them first unless a file changed in between
                raise DataError([_shifted(m, first, len(raw)) for m in problems],
                                source=self.source)
            rows = np.arange(first, first + len(typed), dtype=np.int64)
            yield rows, typed, row_uniforms(self.seed, HOLDOUT_STREAM, rows) < self.holdout

    def train(self, unit: Unit) -> Iterator[tuple[np.ndarray, pd.DataFrame]]:
        """(row numbers, typed training rows) of each batch of ``unit``: the holdout left
        out; batches without training rows are skipped."""
        for rows, typed, held in self.typed(unit):
            keep = ~held
            if keep.any():
                yield rows[keep], typed.loc[keep].reset_index(drop=True)


@dataclass
class Dataset:
    """A Parquet dataset folder checked against a schema; :meth:`scan` fills the rest."""

    path: Path
    schema: Schema
    files: list[Path]
    file_rows: list[int]
    n_rows: int
    stamps: list[tuple[int, int]] = field(repr=False)  # (size, mtime_ns) per file
    units: list[Unit] = field(repr=False)  # the tasks of a pass
    holdout: float = 0.2
    seed: int = 0
    n_train: int = 0
    n_holdout: int = 0
    train_sample: pd.DataFrame | None = field(default=None, repr=False)
    score_sample: pd.DataFrame | None = field(default=None, repr=False)  # of train_sample
    holdout_sample: pd.DataFrame | None = field(default=None, repr=False)
    categories: dict[str, list[str]] = field(default_factory=dict, repr=False)
    scan_seconds: float = 0.0

    @property
    def source(self) -> str:
        return f"dataset '{self.path}'"

    # -- reading --
    def reader(self) -> Reader:
        """The picklable reader of the tasks, with this dataset's split (after :meth:`scan`)."""
        return Reader(schema=self.schema, folder=str(self.path),
                      files=tuple(str(f) for f in self.files),
                      stamps=tuple(self.stamps), batch_rows=BATCH_ROWS, seed=self.seed,
                      holdout=self.holdout)

    def check_unchanged(self) -> None:
        """DataError when a file changed since the footers were read (before a pass)."""
        stamps = [_stamp(f) for f in self.files]
        if stamps != self.stamps:
            raise _changed([str(f) for f, a, b in zip(self.files, stamps, self.stamps,
                                                      strict=True) if a != b], self.source)

    def train_batches(self) -> Iterator[tuple[np.ndarray, pd.DataFrame]]:
        """(row numbers, typed training rows) of every batch, read here, unit after unit: the
        holdout left out (a streaming synthesizer's pass may instead map ``Reader.train``
        over :attr:`units` on an engine)."""
        self.check_unchanged()
        reader = self.reader()
        for unit in self.units:
            yield from reader.train(unit)

    # -- the streamed pass --
    def scan(self, *, holdout: float, seed: int, engine: Any = None) -> Dataset:
        """Check every row, split, and keep the uniform samples; DataError lists what is
        wrong (at most :data:`MAX_PROBLEMS`, each with its row number in the dataset).

        One task per unit on ``engine`` (default: here, one after another); the units'
        results merge in row order, so any engine gives the same result.
        """
        from synthdata.execution.local import LocalEngine

        started = time.perf_counter()
        self.holdout, self.seed = float(holdout), int(seed)
        engine = engine if engine is not None else LocalEngine(workers=1)
        self.check_unchanged()
        # each task returns only the rows whose sample hash is below a cut that the k
        # smallest of the whole dataset are under (but for a 1e-9 chance, then checked): the
        # candidates a task sends stay few whatever the table's size
        cuts = (_sample_cut(FIT_SAMPLE_ROWS, self.n_rows * (1 - self.holdout)),
                _sample_cut(SCORE_ROWS, self.n_rows * self.holdout))
        totals = self._scan_pass(engine, cuts)
        if totals.clean and (
                totals.kept("train") < min(FIT_SAMPLE_ROWS, totals.rows - totals.held)
                or totals.kept("held") < min(SCORE_ROWS, totals.held)):
            logger.warning("the sample cuts %s kept too few rows; scanning again without", cuts)
            totals = self._scan_pass(engine, (1.0, 1.0))
        found_all = list(totals.problems.values())
        if len(found_all) >= MAX_PROBLEMS:
            found_all.append(f"(stopped after {MAX_PROBLEMS} different problems; fix these and "
                             "run again to see any others)")
        elif not totals.rows:
            found_all.append("dataset: its files hold no rows; expected data rows: check the "
                             "export that wrote them")
        elif not found_all:  # the whole-table counts skip batches with problems
            found_all += _table_problems(self.schema, totals, self.holdout)
        if found_all:
            raise DataError(found_all, source=self.source)
        columns = self.schema.modelled_columns
        self.n_train, self.n_holdout = totals.rows - totals.held, totals.held
        train_keep = totals.samples["train"]
        self.train_sample = _finish(train_keep, columns)
        # the scores' training rows: the SCORE_ROWS of the sample with the smallest hashes,
        # themselves a uniform sample (the first rows by number would favour the first files)
        self.score_sample = _finish(None if train_keep is None else
                                    train_keep.nsmallest(SCORE_ROWS, "_order"), columns)
        self.holdout_sample = _finish(totals.samples["held"], columns)
        self.categories = {c: sorted(v) for c, v in totals.seen.items()}
        self.scan_seconds = time.perf_counter() - started
        logger.info("scanned %s: %d rows (%d train, %d holdout) in %d units in %.1f s; samples "
                    "of %d train and %d holdout rows", self.path, totals.rows, self.n_train,
                    self.n_holdout, len(self.units), self.scan_seconds,
                    len(self.train_sample), len(self.holdout_sample))
        return self

    def _scan_pass(self, engine: Any, cuts: tuple[float, float]) -> _Totals:
        import contextlib

        job = {"reader": self.reader(), "cuts": cuts, "max_problems": MAX_PROBLEMS,
               "k": {"train": FIT_SAMPLE_ROWS, "held": SCORE_ROWS}}
        totals = _Totals(self.schema)
        with contextlib.closing(engine.map(_scan_unit, self.units, shared=job)) as parts:
            for part in parts:
                totals.add(part, job["k"], MAX_PROBLEMS)
                if len(totals.problems) >= MAX_PROBLEMS:
                    break
        return totals

    def describe(self) -> dict[str, Any]:
        return {"folder": str(self.path), "files": len(self.files), "units": len(self.units),
                "rows": self.n_rows,
                "rows_train": self.n_train, "rows_holdout": self.n_holdout,
                "split": "uniform per row: a hash of (seed, row number) below the holdout "
                         "fraction",
                "scan_seconds": round(self.scan_seconds, 3)}

    def digest(self) -> str:
        """sha256 over the files' names and sha256s: what the manifest records as input."""
        import hashlib

        from synthdata.io import sha256_file

        h = hashlib.sha256()
        for path in self.files:
            h.update(f"{path.relative_to(self.path)}\0{sha256_file(path)}\n".encode())
        return h.hexdigest()


def open_dataset(path: str | Path, schema: Schema) -> Dataset:
    """The folder's Parquet files and their footers, checked against ``schema``; nothing of
    the data is read yet.

    Raises:
        DataError: no Parquet file, an unreadable file, files with different columns, or
            columns the schema declares but the files lack (or the other way round).
    """
    import pyarrow.parquet as pq

    folder = Path(path).absolute()  # tasks on other processes or nodes get whole paths
    source = f"dataset '{folder}'"
    files = sorted(p for p in folder.rglob("*") if p.is_file()
                   and p.name.lower().endswith(SUFFIXES)
                   and not any(part.startswith(("_", "."))
                               for part in p.relative_to(folder).parts))
    if not files:
        raise DataError([f"the folder holds no Parquet file; expected files ending in "
                         f"{' or '.join(SUFFIXES)} (a Parquet dataset), or give one CSV or "
                         "Parquet file"], source=source)
    problems: list[str] = []
    names: dict[tuple[str, ...], list[Path]] = {}
    rows = []
    groups: list[tuple[int, int, int]] = []  # (file, row group, rows)
    for i, file in enumerate(files):
        try:
            meta = pq.ParquetFile(file).metadata
        except Exception as exc:  # pyarrow raises several unrelated types for a bad file
            problems.append(f"file '{file.relative_to(folder)}': not a readable Parquet file "
                            f"({type(exc).__name__}: {exc}); check the file or export it again")
            continue
        rows.append(meta.num_rows)
        groups += [(i, g, meta.row_group(g).num_rows) for g in range(meta.num_row_groups)]
        names.setdefault(tuple(meta.schema.to_arrow_schema().names), []).append(file)
    if len(names) > 1:
        shown = "; ".join(f"{len(fs)} file(s) like '{fs[0].relative_to(folder)}' have "
                          f"{', '.join(cols)}" for cols, fs in names.items())
        problems.append(f"the files have different columns ({shown}); expected every file "
                        "of a dataset to have the same columns: rewrite the odd ones")
    if problems:
        raise DataError(problems, source=source)
    present = list(next(iter(names)))
    missing = [c for c in schema.columns if c not in present]
    unknown = [c for c in present if c not in schema.columns]
    problems += [f"column '{c}': declared in the schema but missing from the files; add the "
                 "column to the table or remove it from the schema" for c in missing]
    problems += [f"column '{c}': in the files but not declared in the schema; declare it "
                 "under 'columns' (or run 'synthdata schema infer' on one file) or remove it "
                 "from the files" for c in unknown]
    if problems:
        raise DataError(problems, source=source)
    return Dataset(path=folder, schema=schema, files=files, file_rows=rows, n_rows=sum(rows),
                   stamps=[_stamp(f, strict=True) for f in files], units=_units(groups))


def _units(groups: list[tuple[int, int, int]]) -> list[Unit]:
    """Consecutive row groups packed into units of at most :data:`UNIT_ROWS` rows (a bigger
    group is a unit of its own); empty groups left out."""
    units: list[Unit] = []
    first = 0
    pending: list[tuple[int, int]] = []
    size = 0
    for f, g, n in groups:
        if not n:
            continue
        if pending and size + n > UNIT_ROWS:
            units.append(Unit(len(units), first, size, tuple(pending)))
            first, pending, size = first + size, [], 0
        pending.append((f, g))
        size += n
    if pending:
        units.append(Unit(len(units), first, size, tuple(pending)))
    return units


def _sample_cut(k: int, expected: float) -> float:
    """A sample-hash cut under which the ``k`` smallest hashes of about ``expected`` rows lie
    but for a chance of about 1e-9 (both counts are binomial; six standard deviations)."""
    low = expected - 6 * expected ** 0.5 - 1
    if low <= 0:
        return 1.0
    return min(1.0, (k + 6 * k ** 0.5 + 64) / low)


def _scan_unit(unit: Unit, job: dict[str, Any]) -> dict[str, Any]:
    """One task of the scan: the counts, first values, categories, key hashes, sample
    candidates and problems of one unit's rows (merged by :class:`_Totals`)."""
    reader: Reader = job["reader"]
    schema = reader.schema
    columns = schema.modelled_columns
    out = _Totals(schema)
    try:
        for first, raw in reader.raw(unit):
            typed, found = schema.conform(raw, role="batch")
            out.rows += len(typed)
            if found:  # the batch's problems, merged batch by batch as a single pass would
                out.clean = False
                out.batch_problems.append({})
                for message in found:
                    out.batch_problems[-1].setdefault(_problem_key(message),
                                                      _shifted(message, first, len(raw)))
                    out.problems.setdefault(_problem_key(message), "")
                if len(out.problems) >= job["max_problems"]:
                    break  # the whole scan has at least as many by now
                continue
            rows = np.arange(first, first + len(typed), dtype=np.int64)
            held = row_uniforms(reader.seed, HOLDOUT_STREAM, rows) < reader.holdout
            out.held += int(held.sum())
            for c in columns:
                values = typed[c]
                out.nulls[c] += int(values.isna().sum())
                if not out.varying[c]:
                    present = values.dropna()
                    if len(present):
                        out.first_value.setdefault(c, present.iloc[0])
                        out.varying[c] = bool((present != out.first_value[c]).any())
            for c in out.seen:
                out.seen[c].update(category_text(v) for v in typed[c].dropna().unique())
            if schema.target and schema.target in typed:
                out.targets.update(category_text(v) for v in typed[schema.target].dropna())
            if schema.primary_key and schema.primary_key in typed:
                pk = typed[schema.primary_key]
                present = pk.notna().to_numpy()
                out.keys.append(pd.util.hash_pandas_object(pk[present], index=False).to_numpy())
                out.key_rows.append(rows[present])
            order = row_uniforms(reader.seed, SAMPLE_STREAM, rows)
            for (name, k), mask, cut in zip(job["k"].items(), (~held, held), job["cuts"],
                                             strict=True):
                pick = mask & (order < cut)
                out.samples[name] = _bottom_k(out.samples[name], typed.loc[pick], rows[pick],
                                              order[pick], k)
    except DataError as err:  # a file changed: returned, not raised (it crosses processes)
        out.batch_problems.append({_problem_key(m): m for m in err.problems})
        out.clean = False
    return out.pack()


class _Totals:
    """A scan's counts over some rows; :meth:`add` merges a later unit's into them."""

    def __init__(self, schema: Schema) -> None:
        columns = schema.modelled_columns
        self.problems: dict[str, str] = {}
        self.batch_problems: list[dict[str, str]] = []  # a unit's, per batch with problems
        self.clean = True
        self.rows = self.held = 0
        self.nulls = dict.fromkeys(columns, 0)
        self.first_value: dict[str, Any] = {}
        self.varying = dict.fromkeys(columns, False)
        self.seen: dict[str, set[str]] = {
            c: set() for c in schema.columns_of(ColumnKind.categorical, ColumnKind.ordinal,
                                                ColumnKind.boolean) if c in columns}
        self.targets: Counter[str] = Counter()
        self.keys: list[np.ndarray] = []
        self.key_rows: list[np.ndarray] = []
        self.samples: dict[str, pd.DataFrame | None] = {"train": None, "held": None}

    def pack(self) -> dict[str, Any]:
        out = dict(vars(self))
        del out["problems"]  # the merge reads batch_problems
        out["keys"] = np.concatenate(self.keys) if self.keys else None
        out["key_rows"] = np.concatenate(self.key_rows) if self.key_rows else None
        return out

    def kept(self, name: str) -> int:
        sample = self.samples[name]
        return 0 if sample is None else len(sample)

    def add(self, part: dict[str, Any], k: dict[str, int], max_problems: int) -> None:
        """Merge the packed totals of the next unit (units in row order). Its problems are
        added batch by batch up to the batch that brings them to ``max_problems``, as one
        pass over all rows would stop there."""
        for batch in part["batch_problems"]:
            if len(self.problems) >= max_problems:
                break
            for key, message in batch.items():
                self.problems.setdefault(key, message)
        self.clean = self.clean and part["clean"]
        self.rows += part["rows"]
        self.held += part["held"]
        for c, n in part["nulls"].items():
            self.nulls[c] += n
        for c, value in part["first_value"].items():
            if c not in self.first_value:
                self.first_value[c] = value
            elif not self.varying[c]:
                self.varying[c] = bool(value != self.first_value[c])
        for c, varies in part["varying"].items():
            self.varying[c] = self.varying[c] or varies
        for c, values in part["seen"].items():
            self.seen[c] |= values
        self.targets.update(part["targets"])
        if part["keys"] is not None:
            self.keys.append(part["keys"])
            self.key_rows.append(part["key_rows"])
        for name, sample in part["samples"].items():
            if sample is not None:
                both = sample if self.samples[name] is None else pd.concat(
                    [self.samples[name], sample], ignore_index=True)
                if len(both) > k[name]:
                    both = both.iloc[np.argpartition(both["_order"].to_numpy(), k[name] - 1)[
                        :k[name]]].reset_index(drop=True)
                self.samples[name] = both


def _changed(files: list[str], source: str) -> DataError:
    return DataError([f"file(s) {', '.join(files)} changed while the dataset was being read; "
                      "expected files that stay as they are during a run: run again once they "
                      "are written"], source=source)


def _stamp(path: Path, *, strict: bool = False) -> tuple[int, int]:
    """(size, mtime) of a file; unless ``strict``, (-1, -1) when it is gone (a stamp that
    differs from any file's)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        if strict:
            raise
        return -1, -1
    return stat.st_size, stat.st_mtime_ns


def _shifted(message: str, first: int, n: int) -> str:
    """A batch's problem with its row numbers counted from the dataset's first row."""
    text = re.sub(r"first at row (\d+)", lambda m: f"first at row {int(m.group(1)) + first}",
                  message)
    return f"{text} [counted in rows {first + 1}-{first + n}, the first batch where it occurs]"


def _problem_key(message: str) -> str:
    """The same problem in another batch has the same key (the column and what was
    expected, without the values, counts and rows found)."""
    return message.split(", found")[0]


def _bottom_k(kept: pd.DataFrame | None, rows: pd.DataFrame, numbers: np.ndarray,
              order: np.ndarray, k: int) -> pd.DataFrame | None:
    """The ``k`` rows of smallest ``order`` among ``kept`` and ``rows``: a uniform sample."""
    if not len(rows):
        return kept
    frame = rows.reset_index(drop=True).assign(_row=numbers, _order=order)
    both = frame if kept is None else pd.concat([kept, frame], ignore_index=True)
    if len(both) > k:
        both = both.iloc[np.argpartition(both["_order"].to_numpy(), k - 1)[:k]]
    return both.reset_index(drop=True)


def _finish(kept: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    if kept is None:
        return pd.DataFrame(columns=columns)
    return kept.sort_values("_row", kind="stable")[columns].reset_index(drop=True)


def _table_problems(schema: Schema, totals: _Totals, holdout: float) -> list[str]:
    """The whole-table checks of ``Schema.conform``, made over the stream's counts."""
    problems = []
    n_rows, n_holdout = totals.rows, totals.held
    varying, first_value, targets = totals.varying, totals.first_value, totals.targets
    keys, key_rows = totals.keys, totals.key_rows
    for c, n_null in totals.nulls.items():
        if n_null == n_rows:
            problems.append(f"column '{c}': expected values, found all {n_rows:,} rows empty; "
                            "fill the column or remove it from the table and schema")
        elif n_null == 0 and not varying[c] and n_rows > 1:
            problems.append(f"column '{c}': expected varying values, found the constant "
                            f"{str(first_value.get(c))!r} in all {n_rows:,} rows; a synthesizer "
                            "learns nothing from it: remove it from the table and schema")
    if keys:
        hashes, numbers = np.concatenate(keys), np.concatenate(key_rows)
        order = np.argsort(hashes, kind="stable")
        repeat = np.zeros(len(hashes), dtype=bool)
        repeat[order[1:]] = hashes[order[1:]] == hashes[order[:-1]]
        if repeat.any():
            problems.append(
                f"column '{schema.primary_key}': primary key expected unique, found "
                f"{int(repeat.sum()):,} duplicate values (first at row "
                f"{int(numbers[repeat].min()) + 1}); de-duplicate the rows or unset primary_key")
    if schema.target and len(targets) == 1:
        (value, count), = targets.items()
        problems.append(f"target '{schema.target}': expected at least two classes, found only "
                        f"{value!r} ({count:,} rows); use a table that contains every class or "
                        "unset 'target' in the schema")
    need = rows_needed(holdout)
    if n_rows < need or n_holdout < 1 or n_rows - n_holdout < 2:
        problems.append(f"dataset: expected at least {need:,} rows for a holdout fraction of "
                        f"{holdout:g} (at least 1 holdout row and 2 train rows), found "
                        f"{n_rows:,}, which split into {n_holdout:,} holdout and "
                        f"{n_rows - n_holdout:,} train rows; provide more rows or change the "
                        "holdout fraction")
    return problems
