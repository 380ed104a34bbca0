"""Big inputs: a folder of Parquet files streamed in batches (``synthdata.dataset``) and
``run`` on it (``synthdata.pipeline.big``). Small real tables; the batch, sample and epoch
sizes are made small so that several batches, a sample smaller than the table and epochs
shorter than a pass all happen."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from synthdata import dataset as ds
from synthdata.cli import app
from synthdata.demo import demo_schema, make_demo_table
from synthdata.errors import DataError
from synthdata.schema import ColumnKind

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schemas" / "demo.yaml"


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def write_folder(table: pd.DataFrame, folder: Path, cuts: tuple[int, ...]) -> Path:
    """``table`` as Parquet files cut at ``cuts`` (in nested folders, as datasets come)."""
    folder.mkdir(parents=True, exist_ok=True)
    bounds = [0, *cuts, len(table)]
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        sub = folder / f"day={i}"
        sub.mkdir()
        table.iloc[a:b].to_parquet(sub / f"part-{i}.parquet", index=False)
    (folder / "_SUCCESS").write_text("")  # writers leave such files; they are skipped
    return folder


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_demo_table(1800, seed=11)


@pytest.fixture()
def small_batches(monkeypatch):
    monkeypatch.setattr(ds, "BATCH_ROWS", 256)
    monkeypatch.setattr(ds, "FIT_SAMPLE_ROWS", 900)
    monkeypatch.setattr(ds, "SCORE_ROWS", 300)


def test_scan_splits_and_samples_the_same_whatever_the_batches(table, tmp_path, monkeypatch):
    folder = write_folder(table, tmp_path / "d", (700, 1100))
    schema = demo_schema()
    monkeypatch.setattr(ds, "FIT_SAMPLE_ROWS", 900)
    monkeypatch.setattr(ds, "SCORE_ROWS", 300)
    scans = []
    for batch in (128, 1000):
        monkeypatch.setattr(ds, "BATCH_ROWS", batch)
        scans.append(ds.open_dataset(folder, schema).scan(holdout=0.2, seed=4))
    a, b = scans
    assert len(a.files) == 3 and a.n_rows == 1800
    assert (a.n_train, a.n_holdout) == (b.n_train, b.n_holdout)
    assert a.n_train + a.n_holdout == 1800 and 0.15 < a.n_holdout / 1800 < 0.25
    pd.testing.assert_frame_equal(a.train_sample, b.train_sample)
    pd.testing.assert_frame_equal(a.holdout_sample, b.holdout_sample)
    assert len(a.train_sample) == 900 and len(a.holdout_sample) == 300
    # the samples are rows of their own part, typed as a table read whole would be
    whole = schema.validate_table(table)
    rows = np.arange(1800)
    held = ds.row_uniforms(4, ds.HOLDOUT_STREAM, rows) < 0.2
    key = schema.primary_key
    assert set(a.train_sample[key]) <= set(whole.loc[~held, key])
    assert set(a.holdout_sample[key]) <= set(whole.loc[held, key])
    # the scored training rows: 300 of the sample, spread over the whole table (not its start)
    assert len(a.score_sample) == 300 and set(a.score_sample[key]) <= set(a.train_sample[key])
    position = {v: i for i, v in enumerate(whole[key])}
    assert a.score_sample[key].map(position).max() > 1500
    assert dict(a.train_sample.dtypes) == dict(whole[schema.modelled_columns].dtypes)
    # the training rows streamed again are exactly the non-holdout rows, in order
    streamed = pd.concat([f for _, f in a.train_batches()], ignore_index=True)
    pd.testing.assert_frame_equal(
        streamed, whole.loc[~held, schema.modelled_columns].reset_index(drop=True))
    for c in schema.columns_of(ColumnKind.categorical):
        assert a.categories[c] == sorted(whole[c].dropna().astype(str).unique())
    # another seed, another split
    other = ds.open_dataset(folder, schema).scan(holdout=0.2, seed=5)
    assert not other.holdout_sample[key].equals(a.holdout_sample[key])


def test_scan_names_dataset_rows_and_checks_the_whole_table(table, tmp_path, monkeypatch):
    monkeypatch.setattr(ds, "BATCH_ROWS", 256)
    schema = demo_schema()
    numeric = next(c for c in schema.modelled_columns
                   if schema.columns[c].kind == ColumnKind.numerical)
    bad = table.assign(**{numeric: table[numeric].map(lambda v: None if pd.isna(v) else str(v))})
    bad.loc[1234, numeric] = "n/a"  # in the second file, its 5th batch
    folder = write_folder(bad, tmp_path / "bad", (700, 1100))
    with pytest.raises(DataError) as err:
        ds.open_dataset(folder, schema).scan(holdout=0.2, seed=0)
    assert f"column '{numeric}': expected numbers" in str(err.value)
    assert "first at row 1235" in str(err.value)
    assert len(err.value.problems) == 1  # no whole-table finding from partial counts
    # a column constant in the first batches only is not constant; a key repeated across
    # files is a duplicate
    key = schema.primary_key
    sorted_table = table.sort_values(numeric, kind="stable").reset_index(drop=True)
    dup = sorted_table.copy()
    dup.loc[1500, key] = dup.loc[3, key]
    folder = write_folder(dup, tmp_path / "dup", (700,))
    with pytest.raises(DataError) as err:
        ds.open_dataset(folder, schema).scan(holdout=0.2, seed=0)
    assert err.value.problems == [
        f"column '{key}': primary key expected unique, found 1 duplicate values (first at row "
        "1501); de-duplicate the rows or unset primary_key"]
    constant = table.assign(**{numeric: 1.0})
    with pytest.raises(DataError, match=f"column '{numeric}': expected varying values"):
        ds.open_dataset(write_folder(constant, tmp_path / "c", (900,)), schema).scan(
            holdout=0.2, seed=0)


def test_the_footers_are_checked_before_any_row_is_read(table, tmp_path):
    schema = demo_schema()
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("x")
    with pytest.raises(DataError, match="holds no Parquet file"):
        ds.open_dataset(empty, schema)
    dropped = schema.modelled_columns[1]
    folder = write_folder(table.drop(columns=[dropped]), tmp_path / "m", (900,))
    with pytest.raises(DataError, match=f"column '{dropped}': declared in the schema but "
                                        "missing"):
        ds.open_dataset(folder, schema)
    mixed = write_folder(table, tmp_path / "mixed", (900,))
    table.iloc[:5].assign(extra=1).to_parquet(mixed / "day=0" / "odd.parquet", index=False)
    with pytest.raises(DataError, match="the files have different columns"):
        ds.open_dataset(mixed, schema)
    no_rows = write_folder(table.iloc[:0], tmp_path / "none", ())
    with pytest.raises(DataError, match="its files hold no rows"):
        ds.open_dataset(no_rows, schema).scan(holdout=0.2, seed=0)
    broken = write_folder(table, tmp_path / "broken", (900,))
    (broken / "day=1" / "cut.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(DataError, match="cut.parquet': not a readable Parquet file"):
        ds.open_dataset(broken, schema)


@pytest.fixture(scope="module")
def dataset_run(table, tmp_path_factory):
    """`run` of the default synthesizer on a 3-file dataset, in small batches and epochs."""
    from synthdata.synthesizers import autoregressive

    tmp = tmp_path_factory.mktemp("big")
    folder = write_folder(table, tmp / "d", (700, 1100))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ds, "BATCH_ROWS", 256)
        mp.setattr(ds, "FIT_SAMPLE_ROWS", 900)
        mp.setattr(ds, "SCORE_ROWS", 300)
        mp.setattr(autoregressive, "STREAM_EPOCH_ROWS", 500)  # epochs shorter than a pass
        result = invoke("run", folder, "--schema", SCHEMA, "--out", tmp / "run", "--epochs",
                        3, "--quiet", "--force", "--seed", 2)
    return folder, tmp / "run", result


def test_run_on_a_dataset_streams_every_training_row(dataset_run):
    folder, out, result = dataset_run
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    info = report["run"]["dataset"]
    assert info["files"] == 3 and info["rows"] == 1800
    assert info["rows_train"] + info["rows_holdout"] == 1800
    assert info["streamed"] is True and info["rows_seen"] == info["rows_train"]
    assert info["scored_rows"] == {"train": 300, "holdout": 300, "synthetic": 300}
    assert report["run"]["n_rows_synthetic"] == info["rows_train"]
    history = json.loads((out / "model" / "model.json").read_text())["training"]
    assert history["streamed_rows"] == info["rows_train"]
    assert history["epochs"] == 3  # 3 epochs of 500 rows
    assert any("the synthesizer read" in n for n in report["notes"])
    # the export: Parquet parts holding every synthetic row, recorded in the manifest
    parts = sorted((out / "synthetic").glob("part-*.parquet"))
    assert parts and sum(len(pd.read_parquet(p)) for p in parts) == info["rows_train"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert "synthetic/_manifest.json" in manifest["outputs"]
    assert manifest["input"]["n_rows"] == 1800 and len(manifest["input"]["sha256"]) == 64
    assert not (out / "synthetic.parquet").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging left
    assert f"{info['rows_train']} rows" in result.output


def test_a_model_fitted_on_a_dataset_samples_again(dataset_run, tmp_path):
    _, out, result = dataset_run
    assert result.exit_code == 0, result.output
    again = invoke("sample", "--model", out / "model", "--rows", 50, "--out",
                   tmp_path / "more.parquet", "--force")  # 3 short epochs: a forced run
    assert again.exit_code == 0, again.output
    assert len(pd.read_parquet(tmp_path / "more.parquet")) == 50


def test_a_sample_fitted_synthesizer_says_so(table, tmp_path, small_batches):
    folder = write_folder(table, tmp_path / "d", (900,))
    result = invoke("run", folder, "--schema", SCHEMA, "--out", tmp_path / "run",
                    "--synthesizer", "gaussian_copula", "--rows", 400, "--quiet", "--force")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    info = report["run"]["dataset"]
    assert info["streamed"] is False and info["rows_seen"] == info["fit_sample_rows"] == 900
    assert any("uniform sample of 900 of the" in n for n in report["notes"])
    assert report["run"]["n_rows_synthetic"] == 400
    assert sum(len(pd.read_parquet(p)) for p in (tmp_path / "run" / "synthetic").glob(
        "part-*.parquet")) == 400


def test_a_failed_gate_leaves_no_parts(table, tmp_path, small_batches):
    import yaml

    strict = yaml.safe_load(SCHEMA.read_text())
    strict.setdefault("gate", {})["max_detection_auc"] = 0.5000001  # no generator passes
    schema = tmp_path / "strict.yaml"
    schema.write_text(yaml.safe_dump(strict))
    folder = write_folder(table, tmp_path / "d", (900,))
    out = tmp_path / "run"
    (out / "synthetic").mkdir(parents=True)  # a previous run's parts
    (out / "synthetic" / "_manifest.json").write_text("{}")
    result = invoke("run", folder, "--schema", schema, "--out", out, "--synthesizer",
                    "gaussian_copula", "--rows", 300, "--quiet")
    assert result.exit_code == 1, result.output
    assert not (out / "synthetic").exists() and not (out / "model").exists()
    assert (out / "report.json").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("extra, expected", [
    (["--format", "csv"], "a folder of Parquet parts"),
    (["--synthesizer", "auto"], "found the dataset folder"),
])
def test_a_dataset_refuses_what_it_cannot_do(table, tmp_path, extra, expected):
    folder = write_folder(table, tmp_path / "d", (900,))
    result = invoke("run", folder, "--schema", SCHEMA, "--out", tmp_path / "run", *extra)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert not (tmp_path / "run").exists()


def test_other_commands_say_a_folder_is_for_run(table, tmp_path):
    folder = write_folder(table, tmp_path / "d", (900,))
    result = invoke("balance", folder, "--schema", SCHEMA, "--out", tmp_path / "b")
    assert result.exit_code == 2
    assert "also reads a folder of Parquet files" in result.output


def test_ray_trains_the_default_synthesizer_data_parallel(table, tmp_path, small_batches,
                                                          monkeypatch, ray_cluster):
    """`--engine ray --workers 2`: two Ray Train workers each read their share of every batch
    from the codes file; the gradients are averaged, so they end with the same weights, and
    the model that comes back has learnt (its validation loss fell) and samples."""
    from synthdata.synthesizers import autoregressive

    monkeypatch.setattr(autoregressive, "STREAM_EPOCH_ROWS", 500)
    folder = write_folder(table, tmp_path / "d", (900,))
    out = tmp_path / "run"
    result = invoke("run", folder, "--schema", SCHEMA, "--out", out, "--epochs", 3,
                    "--engine", "ray", "--workers", 2, "--quiet", "--force")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    info = report["run"]["dataset"]
    assert info["rows_seen"] == info["rows_train"] and info["streamed"]
    assert report["run"]["execution"]["engine"] == "ray"
    training = json.loads((out / "model" / "model.json").read_text())["training"]
    assert training["data_parallel_workers"] == 2 and training["epochs"] == 3
    assert training["weight_spread"] < 1e-6  # both workers ended with the same weights
    assert training["val_loss"][-1] < training["val_loss"][0]
    parts = sorted((out / "synthetic").glob("part-*.parquet"))
    assert sum(len(pd.read_parquet(p)) for p in parts) == info["rows_train"]


def test_a_private_streamed_fit_is_refused_before_the_scan(table, tmp_path, monkeypatch):
    def no_scan(*args, **kwargs):
        raise AssertionError("scanned before refusing")

    monkeypatch.setattr(ds.Dataset, "scan", no_scan)
    folder = write_folder(table, tmp_path / "d", (900,))
    result = invoke("run", folder, "--schema", SCHEMA, "--out", tmp_path / "run",
                    "--epsilon", 1.0, "--synthesizer", "autoregressive")
    assert result.exit_code == 2, result.output
    assert "without DP-SGD" in result.output and not (tmp_path / "run").exists()


def write_row_groups(table: pd.DataFrame, folder: Path, cuts: tuple[int, ...],
                     group_rows: int) -> Path:
    """Like ``write_folder``, with row groups of ``group_rows`` rows in each file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    bounds = [0, *cuts, len(table)]
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        pq.write_table(pa.Table.from_pandas(table.iloc[a:b], preserve_index=False),
                       folder / f"part-{i}.parquet", row_group_size=group_rows)
    return folder


def same_scan(a: ds.Dataset, b: ds.Dataset) -> None:
    assert (a.n_train, a.n_holdout) == (b.n_train, b.n_holdout)
    for name in ("train_sample", "score_sample", "holdout_sample"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.categories == b.categories


def test_the_scan_is_the_same_in_units_on_every_engine(table, tmp_path, small_batches,
                                                       monkeypatch, ray_cluster):
    """The scan's tasks are units of row groups: cut into 7 units and run over a process pool
    or Ray, it gives the split, samples and categories of one unit read here; its problems
    name the same dataset rows."""
    from synthdata.execution import get_engine

    schema = demo_schema()
    folder = write_row_groups(table, tmp_path / "d", (700, 1100), group_rows=150)
    whole = ds.open_dataset(folder, schema)
    assert len(whole.units) == 1 and whole.units[0].rows == 1800
    reference = whole.scan(holdout=0.2, seed=3)
    monkeypatch.setattr(ds, "UNIT_ROWS", 300)
    cut = ds.open_dataset(folder, schema)
    # row groups of 150 rows (files of 700, 400, 700 rows: each ends with a short group),
    # consecutive ones packed into units of at most 300 rows, across files too
    assert [u.rows for u in cut.units] == [300, 300, 250, 250, 300, 300, 100]
    assert [u.first for u in cut.units] == [0, 300, 600, 850, 1100, 1400, 1700]
    assert cut.units[2].groups == ((0, 4), (1, 0))
    for engine in (get_engine("local"), get_engine("local", workers=2),
                   get_engine("ray", workers=2)):
        with engine:
            same_scan(ds.open_dataset(folder, schema).scan(holdout=0.2, seed=3,
                                                           engine=engine), reference)
    numeric = next(c for c in schema.modelled_columns
                   if schema.columns[c].kind == ColumnKind.numerical)
    bad = table.assign(**{numeric: table[numeric].map(lambda v: None if pd.isna(v) else str(v))})
    bad.loc[1234, numeric] = "n/a"
    bad_folder = write_row_groups(bad, tmp_path / "bad", (700, 1100), group_rows=150)
    with get_engine("local", workers=2) as engine, pytest.raises(DataError) as err:
        ds.open_dataset(bad_folder, schema).scan(holdout=0.2, seed=0, engine=engine)
    assert "first at row 1235" in str(err.value) and len(err.value.problems) == 1


def test_a_sample_cut_that_keeps_too_few_rows_scans_again(table, tmp_path, small_batches,
                                                          monkeypatch, caplog):
    """Each task sends only the rows under a sample-hash cut; if the cut was too tight for
    the k smallest (a 1e-9 chance), the scan runs again without one: the same samples."""
    schema = demo_schema()
    folder = write_folder(table, tmp_path / "d", (700, 1100))
    reference = ds.open_dataset(folder, schema).scan(holdout=0.2, seed=3)
    sample_cut = ds._sample_cut
    monkeypatch.setattr(ds, "_sample_cut", lambda k, expected: 0.05)
    with caplog.at_level("WARNING", logger="synthdata.dataset"):
        again = ds.open_dataset(folder, schema).scan(holdout=0.2, seed=3)
    assert "kept too few rows" in caplog.text
    same_scan(again, reference)
    # the cut itself: the k smallest of n uniform numbers lie under it, and on big tables it
    # sends few more rows than the k
    rng = np.random.default_rng(0)
    for k, n in ((900, 1440), (50_000, 1_000_000), (200_000, 8_000_000)):
        cut = sample_cut(k, n)
        assert np.partition(rng.random(n), k - 1)[k - 1] < cut
        assert cut < 1.05 * k / n or n < 1_000_000


def test_the_encoding_pass_is_the_same_on_a_process_pool(table, tmp_path, small_batches,
                                                         monkeypatch):
    """A streamed fit encodes the dataset's units as engine tasks: over a pool of 2 processes
    the codes, counts and validation rows are those of one process, so the model is too."""
    from synthdata.execution import get_engine
    from synthdata.synthesizers import autoregressive, get_synthesizer

    monkeypatch.setattr(ds, "UNIT_ROWS", 300)
    monkeypatch.setattr(autoregressive, "STREAM_EPOCH_ROWS", 500)
    schema = demo_schema()
    folder = write_row_groups(table, tmp_path / "d", (700, 1100), group_rows=150)
    samples = []
    for engine in (get_engine("local"), get_engine("local", workers=2)):
        dataset = ds.open_dataset(folder, schema).scan(holdout=0.2, seed=3)
        model = get_synthesizer("autoregressive", schema, seed=1, epochs=1, device="cpu")
        with engine:
            model.fit_stream(dataset, engine=engine)
        assert model.rows_seen_ == dataset.n_train
        samples.append(model.sample(200, seed=5))
    pd.testing.assert_frame_equal(*samples)


def test_a_file_changed_during_a_run_stops_the_next_pass(table, tmp_path, small_batches,
                                                         monkeypatch):
    """The footers' sizes and times are checked before each pass and by each task: a file
    rewritten after the scan stops the encoding pass (nothing is trained on a mixture)."""
    import os

    from synthdata.synthesizers import get_synthesizer

    schema = demo_schema()
    folder = write_folder(table, tmp_path / "d", (900,))
    dataset = ds.open_dataset(folder, schema).scan(holdout=0.2, seed=0)
    changed = dataset.files[1]
    table.iloc[900:].to_parquet(changed, index=False, compression="gzip")
    os.utime(changed, ns=(0, 10**9))
    model = get_synthesizer("autoregressive", schema, seed=1, epochs=1, device="cpu")
    with pytest.raises(DataError, match="part-1.parquet changed while the dataset was being "
                                        "read"):
        model.fit_stream(dataset)
    # the tasks' own check (a file changed during the pass): returned, raised by the driver
    monkeypatch.setattr(ds.Dataset, "check_unchanged", lambda self: None)
    with pytest.raises(DataError, match="part-1.parquet changed while"):
        model.fit_stream(dataset)
    with pytest.raises(DataError, match="part-1.parquet changed while"):
        dataset.scan(holdout=0.2, seed=0)


def test_the_problem_limit_and_table_checks_are_the_same_in_units(table, tmp_path,
                                                                  monkeypatch):
    """A single pass stops after the batch that brings the problems to the limit; units
    merged batch by batch stop at the same batch (two problems in one later unit do not both
    count). Whole-table findings spanning units are found over a pool as in one unit."""
    from synthdata.execution import get_engine

    monkeypatch.setattr(ds, "MAX_PROBLEMS", 2)
    schema = demo_schema()
    bad = table.copy()
    for column, row in (("monthly_spend", 100), ("income", 600), ("age", 750)):
        bad[column] = bad[column].map(lambda v: None if pd.isna(v) else str(v)).astype(object)
        bad.loc[row, column] = "n/a"
    key = schema.primary_key
    dup = table.copy()
    dup.loc[1500, key] = dup.loc[3, key]
    constant = table.assign(monthly_spend=1.0)
    folders = {name: write_row_groups(frame, tmp_path / name, (700, 1100), group_rows=150)
               for name, frame in (("bad", bad), ("dup", dup), ("constant", constant))}

    def problems(folder: Path, engine) -> list[str]:
        with pytest.raises(DataError) as err:
            ds.open_dataset(folder, schema).scan(holdout=0.2, seed=0, engine=engine)
        return err.value.problems

    one = {name: problems(folder, None) for name, folder in folders.items()}
    assert len(one["bad"]) == 3 and "stopped after 2 different problems" in one["bad"][-1]
    assert "primary key expected unique" in one["dup"][0]
    assert "expected varying values" in one["constant"][0]
    monkeypatch.setattr(ds, "UNIT_ROWS", 300)  # rows 600 and 750: one unit, two batches
    assert ds.open_dataset(folders["bad"], schema).units[2].groups == ((0, 4), (1, 0))
    with get_engine("local", workers=2) as engine:
        for name, folder in folders.items():
            assert problems(folder, engine) == one[name], name


def test_values_constant_in_each_unit_but_not_across_units_vary(table, tmp_path,
                                                                monkeypatch):
    """A column constant inside every unit, with another value in each, is not constant;
    an empty file between two others changes no row number, sample or finding."""
    from synthdata.execution import get_engine

    schema = demo_schema()
    monkeypatch.setattr(ds, "UNIT_ROWS", 300)
    folder = write_row_groups(table, tmp_path / "d", (700, 1100), group_rows=150)
    units = ds.open_dataset(folder, schema).units
    step = np.zeros(len(table))
    for unit in units:
        step[unit.first:unit.first + unit.rows] = unit.index
    stepwise = write_row_groups(table.assign(monthly_spend=step), tmp_path / "s",
                                (700, 1100), group_rows=150)
    with get_engine("local", workers=2) as engine:
        scanned = ds.open_dataset(stepwise, schema).scan(holdout=0.2, seed=0, engine=engine)
    assert scanned.train_sample["monthly_spend"].nunique() == len(units)
    # an empty file in the middle: the same units' rows and the same scan
    reference = ds.open_dataset(folder, schema).scan(holdout=0.2, seed=3)
    gap = write_row_groups(table, tmp_path / "g", (700, 1100), group_rows=150)
    (gap / "part-1.parquet").rename(gap / "part-1b.parquet")
    table.iloc[:0].to_parquet(gap / "part-1a.parquet", index=False)
    opened = ds.open_dataset(gap, schema)
    assert [f.name for f in opened.files][1:3] == ["part-1a.parquet", "part-1b.parquet"]
    assert [u.rows for u in opened.units] == [u.rows for u in units]
    with get_engine("local", workers=2) as engine:
        same_scan(opened.scan(holdout=0.2, seed=3, engine=engine), reference)


def test_a_row_group_bigger_than_a_unit_is_encoded_here_batch_by_batch(
        table, tmp_path, small_batches, monkeypatch, caplog):
    """A row group over ``UNIT_ROWS`` rows is a unit of its own whose codes would not fit a
    task's bound: the driver encodes it batch by batch in its turn, between the units the
    pool encodes, into the codes, validation rows and counts that tasks would give."""
    import hashlib

    import pyarrow as pa
    import pyarrow.parquet as pq

    from synthdata.execution import get_engine
    from synthdata.synthesizers import get_synthesizer

    schema = demo_schema()
    folder = tmp_path / "d"
    folder.mkdir()
    for name, rows, group in (("part-0", slice(0, 700), 150), ("part-1", slice(700, 1800),
                                                                1100)):
        pq.write_table(pa.Table.from_pandas(table.iloc[rows], preserve_index=False),
                       folder / f"{name}.parquet", row_group_size=group)
    monkeypatch.setattr(ds, "UNIT_ROWS", 300)
    dataset = ds.open_dataset(folder, schema).scan(holdout=0.2, seed=3)
    assert [u.rows for u in dataset.units] == [300, 300, 100, 1100]  # the last: one group

    def encoded(engine) -> tuple[str, list[int]]:
        """(a hash of the codes, validation rows and counts, the units given to the engine)"""
        digest, mapped = hashlib.sha256(), []
        engine_map = engine.map
        engine.map = lambda fn, tasks, shared=None: engine_map(
            fn, [mapped.append(t.index) or t for t in tasks], shared=shared)
        model = get_synthesizer("autoregressive", schema, seed=1, device="cpu")

        def hash_codes(params, seen, codes, val, counts, *, rows, **_):
            digest.update(np.ascontiguousarray(np.load(codes)[:rows]).data)
            digest.update(np.ascontiguousarray(val).data)
            for c in counts:
                digest.update(np.ascontiguousarray(c).data)
            model.training_ = {}

        model._train_net = hash_codes
        model.fit_stream(dataset, engine=engine)
        assert model.rows_seen_ == dataset.n_train
        return digest.hexdigest(), mapped

    with get_engine("local", workers=2) as engine:
        monkeypatch.setattr(ds, "UNIT_ROWS", 10**9)  # no unit over the bound: all tasks
        with caplog.at_level("WARNING", logger="synthdata.synthesizers.autoregressive"):
            tasks_only, mapped = encoded(engine)
        assert mapped == [0, 1, 2, 3] and "more than" not in caplog.text
        monkeypatch.setattr(ds, "UNIT_ROWS", 300)
        with caplog.at_level("WARNING", logger="synthdata.synthesizers.autoregressive"):
            mixed, mapped = encoded(engine)
        assert mapped == [0, 1, 2] and "1 row group(s) of the dataset hold more than 300 rows" \
            in caplog.text
    assert mixed == tasks_only


def test_a_file_gone_during_a_pass_names_the_host_and_the_fix(table, tmp_path, small_batches,
                                                              monkeypatch):
    schema = demo_schema()
    folder = write_folder(table, tmp_path / "d", (900,))
    dataset = ds.open_dataset(folder, schema).scan(holdout=0.2, seed=0)
    dataset.files[1].unlink()
    with pytest.raises(DataError, match="part-1.parquet changed while"):  # the driver's check
        dataset.check_unchanged()
    reader = dataset.reader()
    with pytest.raises(DataError) as err:  # a task's (a worker that cannot see the file)
        list(reader.raw(dataset.units[-1]))
    message = str(err.value)
    assert "part-1.parquet' could not be read on host" in message
    assert "storage every node sees" in message
