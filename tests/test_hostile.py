"""Hostile and unusual input through the CLI: never lose an input, never crash, never hang.

Every case checks the exit code (2 = bad input, with a message naming what was expected and
the fix), that no traceback was printed, that nothing was written (or, for an input that an
output would have replaced, that its sha256 is unchanged). The cases of issue 15 come first,
then a generated table of further hostile inputs across every command.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import signal
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from synthdata.cli import app
from synthdata.demo import make_demo_table

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
HANG_SECONDS = 30


class Hang(Exception):
    pass


@contextmanager
def deadline(seconds: int):
    """Fail a case that runs longer than ``seconds`` (a hang) instead of blocking CI."""
    def stop(signum, frame):  # noqa: ARG001
        raise Hang(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def invoke(*args: object, seconds: int = HANG_SECONDS):
    with deadline(seconds):
        return runner.invoke(app, [str(a) for a in args])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its sha256 (what a refused command must not change)."""
    return {str(p.relative_to(folder)): sha(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(result, *words: str) -> str:
    """Exit 2 with a message that holds ``words``; no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output and "internal error" not in result.output
    for word in words:
        assert word in result.output, (word, result.output)
    return result.output


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A folder with a 300-row demo table, its schema and a run (copula) with a saved model."""
    folder = tmp_path_factory.mktemp("hostile")
    make_demo_table(300, seed=3).to_csv(folder / "t.csv", index=False)
    (folder / "s.yaml").write_text((ROOT / "schemas" / "demo.yaml").read_text())
    undeclared = (ROOT / "schemas" / "demo.yaml").read_text().replace(
        "region: {kind: categorical, categories: [North, South, East, West, Central], "
        "nullable: false}", "region: {kind: categorical, nullable: false}")
    assert undeclared != (folder / "s.yaml").read_text()
    (folder / "s_open.yaml").write_text(undeclared)
    result = invoke("run", folder / "t.csv", "--schema", folder / "s_open.yaml", "--out",
                    folder / "run1", "--synthesizer", "gaussian_copula", "--force", "--quiet",
                    seconds=300)
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture()
def case(tmp_path: Path, work: Path) -> Path:
    """A fresh copy of the table and schema (and the run folder) per test."""
    import shutil

    for name in ("t.csv", "s.yaml", "s_open.yaml"):
        shutil.copy(work / name, tmp_path / name)
    shutil.copytree(work / "run1", tmp_path / "run1")
    return tmp_path


# ---- inputs destroyed ----------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_run_never_removes_or_overwrites_its_input_table(case, fmt):
    table = case / "run1" / "synthetic.csv"
    table.write_bytes((case / "t.csv").read_bytes())  # a table that sits where the export goes
    before = tree(case / "run1")
    out = refused(invoke("run", table, "--schema", case / "s.yaml", "--out", case / "run1",
                         "--format", fmt), "--out", "given as input", "synthetic.csv")
    assert "choose another" in out
    assert tree(case / "run1") == before  # the input, the model, the reports: all unchanged


def test_balance_and_augment_never_overwrite_their_input(case):
    for command, stem, extra in (("balance", "balanced", ()), ("augment", "augmented",
                                                               ("--rows", "10"))):
        folder = case / command
        folder.mkdir()
        table = folder / f"{stem}.csv"
        table.write_bytes((case / "t.csv").read_bytes())
        refused(invoke(command, table, "--schema", case / "s.yaml", "--out", folder,
                       "--format", "csv", *extra), "given as input")
        assert tree(folder) == {f"{stem}.csv": sha(case / "t.csv")}


def test_run_never_overwrites_its_schema(case):
    schema = case / "run1" / "report.json"
    schema.write_text((case / "s.yaml").read_text())  # YAML is JSON's superset: a valid schema
    before = tree(case / "run1")
    refused(invoke("run", case / "t.csv", "--schema", schema, "--out", case / "run1"),
            "schema", "given as input")
    assert tree(case / "run1") == before


def test_schema_infer_never_overwrites_the_table(case):
    table = case / "t.csv"
    before = sha(table)
    refused(invoke("schema", "infer", table, "-o", table), "--output", "given as input")
    refused(invoke("schema", "infer", table, "-o", f"{case}/./t.csv"), "given as input")
    os.link(table, case / "hard.csv")  # the same file under another name
    refused(invoke("schema", "infer", table, "-o", case / "hard.csv"), "given as input")
    assert sha(table) == before


def test_sample_never_writes_into_the_model_folder(case):
    before = tree(case / "run1")
    refused(invoke("sample", "--model", case / "run1" / "model", "--rows", "5", "--out",
                   case / "run1" / "model" / "rows.csv"), "--out", "model folder")
    assert tree(case / "run1") == before


# ---- exit 2, not a traceback ----------------------------------------------------------------
@pytest.mark.parametrize("command", ["run", "augment"])
def test_more_rows_than_memory_holds(case, command):
    out = case / "out"
    text = refused(invoke(command, case / "t.csv", "--schema", case / "s.yaml", "--out", out,
                          "--rows", "1000000000000"), "--rows", "GiB", "available",
                   "at most")
    assert "1,000,000,000,000" in text
    assert not out.exists()


def test_balance_counts_beyond_memory_refused_within_a_second(case):
    out = case / "out"
    start = time.perf_counter()
    refused(invoke("balance", case / "t.csv", "--schema", case / "s.yaml", "--out", out,
                   "--counts", "True=1000000000000"), "--counts", "GiB")
    # read + checks only; a generous margin over the ~0.2 s it takes on an idle core
    assert time.perf_counter() - start < 5
    assert not out.exists()


def test_every_column_pii(case):
    pd.read_csv(case / "t.csv")[["full_name", "email"]].to_csv(case / "pii.csv", index=False)
    (case / "pii.yaml").write_text("name: p\ncolumns:\n  full_name: {kind: pii, pii_type: name}"
                                   "\n  email: {kind: pii, pii_type: email}\n")
    refused(invoke("run", case / "pii.csv", "--schema", case / "pii.yaml", "--out",
                   case / "out"), "no column is left to model", "expected at least one")
    assert not (case / "out").exists()


@pytest.mark.parametrize("text, words", [
    ('{"synthdata_version": "0.1", "sche', ("not valid JSON", "truncated")),
    ("[1, 2, 3]", ("JSON list", "expected the JSON object")),
    ('{"outputs": {}}', ("no 'schema' object",)),
])
def test_sample_with_a_broken_manifest(case, text, words):
    (case / "run1" / "manifest.json").write_text(text)
    refused(invoke("sample", "--model", case / "run1" / "model", "--rows", "5", "--out",
                   case / "x.csv", "--trust"), *words)
    assert not (case / "x.csv").exists()


def test_sample_where_a_value_never_seen(case):
    refused(invoke("sample", "--model", case / "run1" / "model", "--rows", "5", "--out",
                   case / "x.csv", "--where", "region=Mars", "--force"),
            "--where", "'Mars' never occurs", "'North'")
    assert not (case / "x.csv").exists()


def test_schema_nested_thousands_deep(case):
    (case / "deep.yaml").write_text("name: x\ncolumns:\n  a: {kind: integer}\nsplit: "
                                    + "[" * 5000 + "]" * 5000 + "\n")
    refused(invoke("schema", "check", case / "deep.yaml"), "nesting deeper than", "line 4")
    (case / "deep2.yaml").write_text("name: x\ncolumns: " + "{a: " * 3000 + "1" + "}" * 3000)
    refused(invoke("run", case / "t.csv", "--schema", case / "deep2.yaml", "--out",
                   case / "out"), "nesting deeper")
    assert not (case / "out").exists()


def test_seed_in_params_for_balance(case):
    schema = case / "seed.yaml"
    schema.write_text((case / "s.yaml").read_text() + "synthesizer:\n  params: {seed: 1}\n")
    refused(invoke("balance", case / "t.csv", "--schema", schema, "--out", case / "out"),
            "seed")
    assert not (case / "out").exists()


# ---- hangs ------------------------------------------------------------------------------------
def _alias_bomb() -> str:
    text = 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in range(1, 10):
        text += f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n"
    return text + "name: x\ncolumns: *a9\n"


def test_yaml_alias_bomb_refused_within_a_second(case):
    from synthdata.errors import SchemaError
    from synthdata.schema import load_schema

    (case / "bomb.yaml").write_text(_alias_bomb())
    start = time.perf_counter()
    with pytest.raises(SchemaError, match="alias bomb"):
        load_schema(case / "bomb.yaml")
    assert time.perf_counter() - start < 1
    refused(invoke("run", case / "t.csv", "--schema", case / "bomb.yaml", "--out",
                   case / "out"), "alias")
    assert not (case / "out").exists()


def test_recursive_alias(case):
    (case / "rec.yaml").write_text("name: x\ncolumns: &c\n  a: {kind: integer}\n  b: *c\n")
    refused(invoke("schema", "check", case / "rec.yaml"), "recursive")


def test_a_few_anchors_still_load(case):
    text = (case / "s.yaml").read_text().replace(
        "  sex: {kind: categorical, categories: [F, M], nullable: false}",
        "  sex: &cat {kind: categorical, categories: [F, M], nullable: false}")
    text = text.replace("  autopay: {kind: boolean, nullable: false}",
                        "  autopay: &flag {kind: boolean, nullable: false}")
    text = text.replace("  churned: {kind: boolean, nullable: false}", "  churned: *flag")
    (case / "anchors.yaml").write_text(text)
    result = invoke("schema", "check", case / "anchors.yaml")
    assert result.exit_code == 0, result.output


# ---- wrong results without an error ---------------------------------------------------------
def test_schema_declaring_a_column_twice(case):
    text = (case / "s.yaml").read_text() + "  age: {kind: numerical}\n"
    text = text.replace("split:\n  holdout: 0.2\n", "") + "split:\n  holdout: 0.2\n"
    (case / "twice.yaml").write_text(text)
    refused(invoke("schema", "check", case / "twice.yaml"), "'age' appears twice",
            "remove or rename")


def test_csv_with_duplicate_header_names(case):
    df = pd.read_csv(case / "t.csv")
    text = (case / "t.csv").read_text().splitlines()
    text[0] = text[0].replace("tenure_months", "age")
    (case / "dup.csv").write_text("\n".join(text) + "\n")
    refused(invoke("schema", "infer", case / "dup.csv"), "duplicate column name", "'age'")
    refused(invoke("run", case / "dup.csv", "--schema", case / "s.yaml", "--out",
                   case / "out"), "duplicate column name")
    assert not (case / "out").exists() and len(df)


def test_nul_byte_in_a_cell(case):
    raw = (case / "t.csv").read_bytes().replace(b"North", b"North\0DROP TABLE", 1)
    (case / "nul.csv").write_bytes(raw)
    refused(invoke("run", case / "nul.csv", "--schema", case / "s.yaml", "--out",
                   case / "out"), "NUL byte", "line")
    refused(invoke("schema", "infer", case / "nul.csv"), "NUL byte")
    assert not (case / "out").exists()


@pytest.mark.parametrize("field", ["sensitive", "quasi_identifiers"])
def test_sensitive_or_quasi_identifier_naming_pii(case, field):
    text = (case / "s.yaml").read_text()
    text = text.replace("sensitive: [sex]", "sensitive: [sex, email]") if field == "sensitive" \
        else text.replace("quasi_identifiers: [age, sex, region]",
                          "quasi_identifiers: [age, sex, full_name]")
    (case / "p.yaml").write_text(text)
    refused(invoke("run", case / "t.csv", "--schema", case / "p.yaml", "--out", case / "out"),
            field, "has kind pii", "never modelled")
    assert not (case / "out").exists()


@pytest.mark.parametrize("args", [
    ("run", "{t}", "--schema", "{s}", "--out", ""),
    ("balance", "{t}", "--schema", "{s}", "--out", ""),
    ("augment", "{t}", "--schema", "{s}", "--out", "", "--rows", "5"),
    ("evaluate", "--train", "{t}", "--holdout", "{t}", "--synth", "{t}", "--schema", "{s}",
     "--out", ""),
    ("sample", "--model", "{m}", "--rows", "5", "--out", ""),
    ("demo", "--out", ""),
    ("schema", "infer", "{t}", "-o", ""),
])
def test_empty_out_is_refused(case, args, monkeypatch):
    monkeypatch.chdir(case)
    before = tree(case)
    filled = [a.format(t=case / "t.csv", s=case / "s.yaml", m=case / "run1" / "model")
              for a in args]
    refused(invoke(*filled), "non-empty path")
    assert tree(case) == before


def test_evaluate_scores_and_gates_constraint_violations(case):
    df = pd.read_csv(case / "t.csv")
    df.iloc[:150].to_csv(case / "train.csv", index=False)
    df.iloc[150:225].to_csv(case / "holdout.csv", index=False)
    synth = df.iloc[225:].copy()
    synth.loc[synth.index[:5], "age"] = 200  # declared max 90
    synth.loc[synth.index[5:8], "region"] = "Mars"  # not a declared category
    synth.to_csv(case / "synth.csv", index=False)
    result = invoke("evaluate", "--train", case / "train.csv", "--holdout",
                    case / "holdout.csv", "--synth", case / "synth.csv", "--schema",
                    case / "s.yaml", "--out", case / "ev", seconds=300)
    assert result.exit_code == 1, result.output
    report = json.loads((case / "ev" / "report.json").read_text())
    figures = report["fidelity"]["figures"]
    assert figures["constraint_violations"] == pytest.approx(8 / 75)
    assert figures["constraint_violation_rows"] == 8
    rows = {(d["columns"][0], d["constraint"]): d for d in report["fidelity"]["details"]
            if d["metric"] == "constraint_violations"}
    assert rows[("age", "range")]["rows"] == 5 and rows[("age", "range")]["example"] == "200"
    assert rows[("region", "category")]["rows"] == 3
    assert "fidelity.constraint_violations" in [f["check"] for f in report["gate"]["failures"]]
    assert report["fidelity"]["reference"]["constraint_violations"] == 0.0


def test_inferred_schema_accepts_the_other_half(case):
    df = pd.read_csv(case / "t.csv")
    first, second = df.iloc[:150].copy(), df.iloc[150:].copy()
    first.to_csv(case / "first.csv", index=False)
    second.loc[second.index[0], "age"] = 99  # beyond the first half's range
    second.loc[second.index[1], "monthly_spend"] = 0.5
    second.loc[second.index[2], "region"] = "Islands"  # a category the first half lacks
    second.loc[second.index[3], "income"] = None
    second.loc[second.index[4], "support_calls"] = 17
    second.to_csv(case / "second.csv", index=False)
    assert invoke("schema", "infer", case / "first.csv", "-o", case / "first.yaml").exit_code == 0
    result = invoke("schema", "check", case / "first.yaml", "--table", case / "second.csv")
    assert result.exit_code == 0, result.output
    # once a person deletes 'inferred: true', the bounds refuse such rows
    reviewed = case / "reviewed.yaml"
    reviewed.write_text((case / "first.yaml").read_text().replace(", inferred: true", "")
                        .replace("inferred: true", ""))
    refused(invoke("schema", "check", reviewed, "--table", case / "second.csv"),
            "column 'age'", "at most")


# ---- messages that mislead ----------------------------------------------------------------
def test_not_gzip_although_named_gz(case):
    (case / "t.csv.gz").write_bytes((case / "t.csv").read_bytes())
    text = refused(invoke("schema", "infer", case / "t.csv.gz"), "not gzip-compressed",
                   "rename it")
    assert "None" not in text


def test_truncated_gzip(case):
    data = gzip.compress((case / "t.csv").read_bytes())
    (case / "cut.csv.gz").write_bytes(data[: len(data) // 2])
    refused(invoke("schema", "infer", case / "cut.csv.gz"), "written completely")


@pytest.mark.parametrize("placeholder, rows", [("9999-12-31", 1), ("1553-03-01", 300)])
def test_dates_outside_the_timestamp_range(case, placeholder, rows):
    df = pd.read_csv(case / "t.csv")
    df.loc[df.index[:rows], "signup_date"] = placeholder
    df.to_csv(case / "d.csv", index=False)
    text = refused(invoke("schema", "check", case / "s.yaml", "--table", case / "d.csv"),
                   "1677-09-21", "2262-04-11", placeholder, "nullable: true")
    assert "set datetime_format" not in text and "all 300 rows empty" not in text


def test_holdout_that_leaves_nothing_to_train(case):
    pd.read_csv(case / "t.csv").iloc[:100].to_csv(case / "h.csv", index=False)
    text = refused(invoke("run", case / "h.csv", "--schema", case / "s.yaml", "--out",
                          case / "out", "--holdout", "0.999"), "2,000 rows", "0.999")
    assert "100%" not in text and "at least 10 rows" not in text


def test_sample_out_that_is_a_folder(case):
    (case / "more.csv").mkdir()
    text = refused(invoke("sample", "--model", case / "run1" / "model", "--rows", "5",
                          "--out", case / "more.csv", "--force"), "is a folder",
                   "choose another name")
    assert ".tmp" not in text and list((case / "more.csv").iterdir()) == []
