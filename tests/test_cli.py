"""The CLI contract: exit codes, messages for bad input, nothing written on failure."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from synthdata.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def _bad_run(table: Path, schema: Path, out: Path, *extra: str) -> str:
    result = invoke("run", table, "--schema", schema, "--out", out, *extra)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not out.exists(), "nothing may be written on bad input"
    return result.output


@pytest.fixture()
def out(tmp_path: Path) -> Path:
    return tmp_path / "out"


def _write(tmp_path: Path, df: pd.DataFrame, name="t.csv") -> Path:
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def test_empty_file(tmp_path, schema_yaml, out):
    path = tmp_path / "empty.csv"
    path.write_text("")
    msg = _bad_run(path, schema_yaml, out)
    assert "the file is empty" in msg and "expected a header row" in msg


def test_header_only(tmp_path, schema_yaml, out, small_raw):
    path = tmp_path / "header.csv"
    path.write_text(",".join(small_raw.columns) + "\n")
    msg = _bad_run(path, schema_yaml, out)
    assert "no data rows" in msg


def test_wrong_delimiter(tmp_path, schema_yaml, out, small_raw):
    path = tmp_path / "semi.csv"
    small_raw.to_csv(path, index=False, sep=";")
    msg = _bad_run(path, schema_yaml, out)
    assert "';' as delimiter" in msg and "comma-separated" in msg


def test_missing_column(tmp_path, schema_yaml, out, small_raw):
    msg = _bad_run(_write(tmp_path, small_raw.drop(columns=["age"])), schema_yaml, out)
    assert "column 'age': declared in the schema but missing from the table" in msg


def test_extra_column(tmp_path, schema_yaml, out, small_raw):
    msg = _bad_run(_write(tmp_path, small_raw.assign(shoe_size=42)), schema_yaml, out)
    assert "column 'shoe_size': in the table but not declared" in msg


def test_type_mismatch(tmp_path, schema_yaml, out, small_raw):
    df = small_raw.copy()
    df["age"] = df["age"].astype(object)
    df.loc[16, "age"] = "abc"
    msg = _bad_run(_write(tmp_path, df), schema_yaml, out)
    assert "column 'age': expected numbers, found 'abc' in 1 row(s) (first at row 17)" in msg
    assert "declare the column categorical" in msg


def test_unknown_category(tmp_path, schema_yaml, out, small_raw):
    df = small_raw.copy()
    df.loc[3, "region"] = "Atlantis"
    msg = _bad_run(_write(tmp_path, df), schema_yaml, out)
    assert "column 'region'" in msg and "'Atlantis'" in msg and "add them to 'categories'" in msg


def test_all_null_column(tmp_path, schema_yaml, out, small_raw):
    msg = _bad_run(_write(tmp_path, small_raw.assign(income=None)), schema_yaml, out)
    assert "column 'income': expected values, found all 600 rows empty" in msg


def test_one_class_target(tmp_path, schema_yaml, out, small_raw):
    msg = _bad_run(_write(tmp_path, small_raw.assign(churned=False)), schema_yaml, out)
    assert "target 'churned': expected at least two classes" in msg


def test_invalid_schema_yaml(tmp_path, small_csv, out):
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns:\n  age: {kind: integer\n")
    msg = _bad_run(small_csv, bad, out)
    assert "invalid YAML at line" in msg and "fix the YAML syntax" in msg


def test_invalid_schema_content(tmp_path, small_csv, out):
    bad = tmp_path / "bad.yaml"
    bad.write_text("target: nope\ncolumns:\n  age: {kind: number}\n")
    msg = _bad_run(small_csv, bad, out)
    assert "columns.age.kind" in msg and "use one of the allowed values" in msg


def test_unknown_synthesizer(small_csv, schema_yaml, out):
    msg = _bad_run(small_csv, schema_yaml, out, "--synthesizer", "gan9000")
    assert "unknown synthesizer 'gan9000'" in msg and "gaussian_copula, ctgan, tvae" in msg


@pytest.mark.parametrize("synth", ["ctgan", "gaussian_copula"])
def test_epochs_zero(small_csv, schema_yaml, out, synth):
    msg = _bad_run(small_csv, schema_yaml, out, "--synthesizer", synth, "--epochs", "0")
    assert "'epochs' parameter must be an int in [1, inf). Got 0 instead." in msg


def test_batch_size_not_divisible_by_pac(tmp_path, small_csv, out):
    text = (Path(__file__).parents[1] / "schemas" / "demo.yaml").read_text()
    text += "synthesizer:\n  name: ctgan\n  batch_size: 105\n"
    schema = tmp_path / "s.yaml"
    schema.write_text(text)
    msg = _bad_run(small_csv, schema, out)
    assert "'batch_size' parameter of CTGAN must be divisible by 'pac' (10)" in msg


def test_cuda_without_cuda(small_csv, schema_yaml, out):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    msg = _bad_run(small_csv, schema_yaml, out, "--synthesizer", "tvae", "--device", "cuda")
    assert "device 'cuda' was requested" in msg and "--device cpu" in msg


def test_missing_table_file(tmp_path, schema_yaml, out):
    msg = _bad_run(tmp_path / "nope.csv", schema_yaml, out)
    assert "file not found" in msg


def test_bad_holdout_and_format(small_csv, schema_yaml, out):
    assert "(0, 1)" in _bad_run(small_csv, schema_yaml, out, "--holdout", "1.5")
    assert "parquet, csv" in _bad_run(small_csv, schema_yaml, out, "--format", "xlsx")


def test_run_writes_the_contracted_outputs(small_csv, schema_yaml, out):
    # the Gaussian copula keeps little of the demo target's signal on 600 rows and fails the
    # utility bound (gate.min_ml_efficacy); this test is about the files a passing run writes
    schema_yaml.write_text(schema_yaml.read_text() + "gate:\n  min_ml_efficacy: 0\n")
    result = invoke("run", small_csv, "--schema", schema_yaml, "--out", out, "--format", "csv",
                    "--rows", "250", "--quiet")
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"synthetic.csv", "report.json", "report.html",
                                              "manifest.json", "model"}
    report = json.loads((out / "report.json").read_text())
    assert 0 <= report["fidelity"]["figures"]["column_shapes"] <= 1
    assert 0 <= report["fidelity"]["figures"]["column_pair_trends"] <= 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["device"]["used"] == "cpu"
    assert len(pd.read_csv(out / "synthetic.csv")) == 250


def test_synthesizers_lists_the_registry():
    result = invoke("synthesizers")
    assert result.exit_code == 0
    for name in ("gaussian_copula", "ctgan", "tvae"):
        assert name in result.output
    assert "ready" in result.output


FENCE = textwrap.dedent("""
    import sys
    from synthdata.cli import app
    try:
        app(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "sdv", "ctgan"))
    print("HEAVY:", heavy)
    sys.exit(code or 0)
""")


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["schema", "infer", "TABLE"]])
def test_help_and_schema_infer_do_not_import_torch_or_sdv(args, small_csv, tmp_path):
    args = [str(small_csv) if a == "TABLE" else a for a in args]
    if "infer" in args:
        args += ["-o", str(tmp_path / "draft.yaml")]
    proc = subprocess.run([sys.executable, "-c", FENCE, *args], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY: []" in proc.stdout, proc.stdout
    if "infer" in args:
        assert (tmp_path / "draft.yaml").exists()


def test_the_fence_detects_heavy_imports(tmp_path):
    """The import check can fail: `synthesizers` does import torch."""
    proc = subprocess.run([sys.executable, "-c", FENCE, "synthesizers"], capture_output=True,
                          text=True, timeout=120)
    assert "'torch'" in proc.stdout


def test_huge_seed(small_csv, schema_yaml, out):
    msg = _bad_run(small_csv, schema_yaml, out, "--seed", "5000000000")
    assert "--seed" in msg and "4294967295" in msg


def test_reserved_params_in_schema(tmp_path, small_csv, out):
    text = (Path(__file__).parents[1] / "schemas" / "demo.yaml").read_text()
    schema = tmp_path / "s.yaml"
    schema.write_text(text + "synthesizer:\n  params: {seed: 3}\n")
    msg = _bad_run(small_csv, schema, out)
    assert "synthesizer.params must not set 'seed'" in msg and "--seed" in msg


def test_epochs_in_schema_params_are_used(tmp_path, small_csv, out):
    text = (Path(__file__).parents[1] / "schemas" / "demo.yaml").read_text()
    schema = tmp_path / "s.yaml"
    schema.write_text(text + "synthesizer:\n  name: tvae\n  params: {epochs: 1, batch_size: 50}"
                             "\n")
    # one epoch of TVAE does not pass the gate's fidelity bounds: --force, this is about params
    result = invoke("run", small_csv, "--schema", schema, "--out", out, "--quiet", "--force")
    assert result.exit_code == 0, result.output
    params = json.loads((out / "manifest.json").read_text())["params"]
    assert params["epochs"] == 1 and params["batch_size"] == 50


def test_schema_is_a_folder(tmp_path, small_csv, out):
    msg = _bad_run(small_csv, tmp_path, out)
    assert "is a folder" in msg


def test_out_dir_under_a_file(tmp_path, small_csv, schema_yaml):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    msg = _bad_run(small_csv, schema_yaml, blocker / "out")
    assert "cannot be created" in msg and "is a file" in msg


def test_schema_infer_to_an_unwritable_path(tmp_path, small_csv):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    result = invoke("schema", "infer", small_csv, "-o", blocker / "draft.yaml")
    assert result.exit_code == 2, result.output
    assert "check the path" in result.output and "Traceback" not in result.output


def test_infinite_value_is_bad_input(tmp_path, schema_yaml, out, small_raw):
    df = small_raw.copy()
    df["income"] = df["income"].astype(object)
    df.loc[5, "income"] = "inf"
    msg = _bad_run(_write(tmp_path, df), schema_yaml, out)
    assert "column 'income': expected finite numbers, found 'inf'" in msg


def test_same_seed_identical_csv_across_processes(tmp_path, small_csv, schema_yaml):
    """Two separate processes (fresh torch/numpy state) give the same bytes."""
    digests = []
    for i in range(2):
        out = tmp_path / f"p{i}"
        proc = subprocess.run(
            [sys.executable, "-m", "synthdata.cli", "run", str(small_csv), "--schema",
             str(schema_yaml), "--out", str(out), "--synthesizer", "ctgan", "--epochs", "1",
             "--seed", "4", "--format", "csv", "--rows", "300", "--quiet", "--force"],
            capture_output=True, text=True, timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        digests.append((out / "synthetic.csv").read_bytes())
    assert digests[0] == digests[1]


def test_run_without_out_writes_to_out_slash_table_name(tmp_path, small_csv, schema_yaml,
                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", str(small_csv), "--schema", str(schema_yaml),
                                      "--quiet", "--force", "--epochs", "2"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "table" / "report.json").is_file()  # small_csv is table.csv
