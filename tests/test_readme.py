"""The README is executable documentation: its Python example, CI command, CLI synopsis,
tour and schema reference are checked against the code."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_python_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert blocks, "the README has a Python example"
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    assert (tmp_path / "out" / "report.json").exists()
    assert (tmp_path / "out" / "ar-model" / "synthdata_model.json").exists()


def test_ci_runs_the_readme_test_command():
    marked = re.search(r"<!-- test-command -->\n```bash\n(.*?)\n```", README, flags=re.S)
    assert marked and "pytest" in marked.group(1)
    script = (
        "sed -n '/<!-- test-command -->/,/<!-- \\/test-command -->/p' README.md "
        "| grep -v '^```' | grep -v '^<!--'"
    )
    assert script in (ROOT / ".ci" / "run").read_text().replace("\\\n      ", "")
    extracted = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert extracted.stdout.strip() == marked.group(1).strip()


def _block(marker: str) -> str:
    found = re.search(rf"<!-- {marker} -->\n(.*?)<!-- /{marker} -->", README, flags=re.S)
    assert found, f"README has a <!-- {marker} --> block"
    return found.group(1)


def test_schema_reference_table_is_current():
    from synthdata.schema import reference_markdown

    assert _block("schema-reference") == reference_markdown(), (
        "regenerate the README table with `synthdata schema reference`")


def test_every_option_in_the_command_synopsis_exists():
    """Each `synthdata ...` line of the synopsis: its flags are in that command's --help."""
    from typer.testing import CliRunner

    from synthdata.cli import app

    synopsis = re.search(r"## The command line\n\n```text\n(.*?)```", README, flags=re.S)
    assert synopsis
    commands: list[tuple[list[str], set[str]]] = []
    for line in synopsis.group(1).splitlines():
        line = line.split("#")[0]
        if line.startswith("synthdata "):
            words = [w for w in line.split()[1:] if re.fullmatch(r"[a-z]+", w)]
            command = words[:2] if words[:1] == ["schema"] else words[:1]
            commands.append((command, set()))
        if commands:
            commands[-1][1].update(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", line))
    assert len(commands) >= 11
    runner = CliRunner()
    for command, flags in commands:
        result = runner.invoke(app, [*command, "--help"], terminal_width=200)
        assert result.exit_code == 0, (command, result.output)
        missing = {f for f in flags if f not in result.output}
        assert not missing, f"synthdata {' '.join(command)} has no {missing}"


@pytest.mark.slow
def test_the_tour_runs(tmp_path):
    """Every command of the 5-minute tour, in order, in an empty folder: each exits 0."""
    import os
    import shutil
    import sys

    lines = [ln.split("  #")[0].strip() for ln in _block("tour").splitlines()
             if ln and not ln.startswith("```")]
    assert len(lines) >= 7
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    assert shutil.which("synthdata", path=env["PATH"]), "the synthdata command is installed"
    for line in lines:
        done = subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=900)
        assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert (tmp_path / "run1" / "report.html").exists()
    more = pd.read_csv(tmp_path / "more.csv")
    assert len(more) == 500 and (more["sex"] == "F").all()
    assert (tmp_path / "balanced" / "balanced.parquet").exists()
