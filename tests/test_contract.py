"""The contract around synthesizers: one list of names, one way to pass parameters."""

from __future__ import annotations

import io
import json
import re
import tokenize
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synthdata.cli import app
from synthdata.synthesizers import registry

ROOT = Path(__file__).resolve().parents[1]
BUILT_IN = [name for name, entry in registry.REGISTRY.items()
            if (entry if isinstance(entry, str) else entry.__module__).startswith("synthdata.")]


def _literals(path: Path) -> list[tuple[int, str]]:
    """Every string literal and comment of a Python file, with its line."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return [(t.start[0], t.string) for t in tokens
            if t.type in (tokenize.STRING, tokenize.COMMENT)]


def test_synthesizer_names_are_written_only_in_the_registry():
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, BUILT_IN)) + r")\b")
    found = [f"{path.relative_to(ROOT)}:{line}: {text.strip()[:80]}"
             for path in sorted((ROOT / "synthdata").rglob("*.py"))
             if path != ROOT / "synthdata" / "synthesizers" / "registry.py"
             for line, text in _literals(path) if pattern.search(text)]
    assert found == []


def test_the_name_check_can_fail():
    assert any("gaussian_copula" in text for _, text in
               _literals(ROOT / "synthdata" / "synthesizers" / "registry.py"))
    assert len(BUILT_IN) >= 3


def _invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("command", ["run", "balance", "augment"])
def test_seed_in_schema_params_is_refused_by_every_command(tmp_path, small_csv, schema_yaml,
                                                           command):
    schema = tmp_path / "s.yaml"
    schema.write_text(schema_yaml.read_text() + "synthesizer:\n  params: {seed: 1}\n")
    extra = {"run": [], "balance": ["--ratio", "1.0"], "augment": ["--rows", "50"]}[command]
    result = _invoke(command, small_csv, "--schema", schema, "--out", tmp_path / "o", *extra)
    assert result.exit_code == 2, result.output
    assert "synthesizer.params must not set 'seed'" in result.output
    assert not (tmp_path / "o").exists(), "refused before anything was written"


@pytest.mark.parametrize("command", ["run", "balance", "augment"])
def test_schema_batch_size_is_honoured_by_every_command(tmp_path, small_csv, schema_yaml,
                                                        command):
    name = registry.epoch_names()[-1]
    schema = tmp_path / "s.yaml"
    schema.write_text(schema_yaml.read_text()
                      + f"synthesizer:\n  name: {name}\n  epochs: 1\n  batch_size: 60\n")
    extra = {"run": [], "balance": ["--ratio", "0.5"], "augment": ["--rows", "50"]}[command]
    out = tmp_path / "o"
    result = _invoke(command, small_csv, "--schema", schema, "--out", out, "--quiet", "--force",
                     *extra)
    assert result.exit_code == 0, result.output
    params = json.loads((out / "manifest.json").read_text())["params"]
    assert params["batch_size"] == 60 and params["epochs"] == 1
    assert json.loads((out / "report.json").read_text())["run"]["params"] == params


def test_cli_batch_size_flag_wins_over_the_schema(tmp_path, small_csv, schema_yaml):
    name = registry.epoch_names()[-1]
    schema = tmp_path / "s.yaml"
    schema.write_text(schema_yaml.read_text()
                      + f"synthesizer:\n  name: {name}\n  epochs: 1\n  batch_size: 60\n")
    out = tmp_path / "o"
    result = _invoke("augment", small_csv, "--schema", schema, "--out", out, "--rows", "20",
                     "--batch-size", "40", "--quiet", "--force")
    assert result.exit_code == 0, result.output
    assert json.loads((out / "manifest.json").read_text())["params"]["batch_size"] == 40


def test_schema_params_are_checked_when_the_schema_loads(tmp_path, schema_yaml):
    from synthdata.errors import SchemaError
    from synthdata.schema import load_schema

    schema = tmp_path / "s.yaml"
    schema.write_text(schema_yaml.read_text() + "synthesizer:\n  name: gaussian_copula\n"
                      "  params: {bogus: 1, default_distribution: cauchy, device: cuda}\n")
    with pytest.raises(SchemaError) as info:
        load_schema(schema)
    text = str(info.value)
    assert "3 problems" in text
    assert "'bogus'" in text and "'default_distribution'" in text and "'device'" in text


@pytest.mark.parametrize(("section", "module"), [("privacy", "privacy"), ("bias", "bias")])
def test_a_section_that_fails_is_recorded_and_fails_the_gate(tmp_path, small_typed, schema,
                                                             monkeypatch, section, module):
    """A scoring section that raises leaves an error row and a note, and the gate fails: a
    section nobody could score shows nothing safe."""
    import importlib

    import synthdata

    def broken(*args, **kwargs):
        raise RuntimeError("planted failure")

    monkeypatch.setattr(importlib.import_module(f"synthdata.metrics.{module}"),
                        f"evaluate_{section}", broken)
    result = synthdata.run(small_typed, schema, out_dir=tmp_path / "o", seed=0)
    report = result.report
    assert report[section]["error"] == "RuntimeError: planted failure"
    assert report[section]["details"][0]["error"] == "RuntimeError: planted failure"
    assert any(f"{section} could not be scored" in note for note in report["notes"])
    failed = {f["check"] for f in report["gate"]["failures"]}
    assert f"{section}.scored" in failed and result.exit_code == 1
    assert not (tmp_path / "o" / "synthetic.parquet").exists()


def test_numpy_scalars_tuples_and_none_defaults_are_accepted(schema):
    import numpy as np

    from synthdata.synthesizers import get_synthesizer

    params = get_synthesizer("ctgan", schema, epochs=np.int64(2), generator_dim=(64, 64),
                             batch_size=None).get_params()
    assert params["epochs"] == 2 and params["generator_dim"] == [64, 64]
    assert params["batch_size"] == 500
    assert get_synthesizer(registry.DEFAULT, schema, epochs=None).get_params()


def test_epoch_params_of_a_schema_carry_over_to_a_synthesizer_chosen_per_run(
        tmp_path, small_csv, schema_yaml):
    """A schema naming a synthesizer that does not train in epochs may hold epochs for one
    picked with --synthesizer; the named one ignores them (noted), the other uses them."""
    schema = tmp_path / "s.yaml"
    schema.write_text(schema_yaml.read_text()
                      + "synthesizer:\n  name: gaussian_copula\n  params: {epochs: 1}\n")
    from synthdata.pipeline.steps import make_synthesizer
    from synthdata.schema import load_schema

    loaded = load_schema(schema)
    model, notes = make_synthesizer(loaded, name=None, epochs=None, batch_size=None,
                                    params=None, device="cpu", seed=0)
    assert notes and "ignored" in notes[0]
    other, _ = make_synthesizer(loaded, name=registry.epoch_names()[0], epochs=None,
                                batch_size=None, params=None, device="cpu", seed=0)
    assert other.get_params()["epochs"] == 1


def test_augment_into_a_run_folder_keeps_the_runs_model(tmp_path, small_csv, schema_yaml):
    out = tmp_path / "o"
    assert _invoke("run", small_csv, "--schema", schema_yaml, "--out", out, "--quiet",
                   "--force").exit_code == 0
    assert _invoke("augment", small_csv, "--schema", schema_yaml, "--out", out, "--rows", "20",
                   "--quiet", "--force").exit_code == 0
    assert (out / "model" / "synthdata_model.json").exists()
