"""report.html: self-contained, escaped, rendered by headless Chromium; safe outputs."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from synthdata.cli import app
from synthdata.demo import make_demo_table

ROOT = Path(__file__).resolve().parents[1]
EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def evil_run(tmp_path_factory) -> Path:
    """A run whose column name and a category value are a script tag."""
    tmp = tmp_path_factory.mktemp("evil")
    table = make_demo_table(1500, seed=2).rename(columns={"region": EVIL})
    table[EVIL] = table[EVIL].replace("Central", EVIL)
    table.to_csv(tmp / "table.csv", index=False)
    schema = yaml.safe_load((ROOT / "schemas" / "demo.yaml").read_text())
    schema["columns"][EVIL] = schema["columns"].pop("region")
    schema["columns"][EVIL]["categories"] = ["North", "South", "East", "West", EVIL]
    schema["sensitive"] = ["sex", EVIL]
    schema["quasi_identifiers"] = ["age", "sex", EVIL]
    (tmp / "schema.yaml").write_text(yaml.safe_dump(schema))
    out = tmp / "out"
    result = CliRunner().invoke(app, ["run", str(tmp / "table.csv"), "--schema",
                                      str(tmp / "schema.yaml"), "--out", str(out), "--quiet",
                                      "--force"])
    assert result.exit_code == 0, result.output
    return out


def test_report_html_escapes_every_value_from_the_data(evil_run):
    page = (evil_run / "report.html").read_text()
    assert "<script" not in page.lower(), "an unescaped script tag reached the report"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown, as text
    assert "onerror" not in page.lower()


def test_report_html_is_self_contained(evil_run):
    page = (evil_run / "report.html").read_text()
    # no external stylesheet, script, image or font: only SVG namespace identifiers
    links = re.findall(r"""(?:src|href)\s*=\s*["']?([^"' >]+)""", page, flags=re.I)
    assert links == []
    assert re.findall(r"https?://", page) == ["http://"] * page.count('xmlns="http://www.w3.org')
    for section in ("Fidelity", "Privacy", "Bias", "verdict"):
        assert section in page


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB(A) PNG (what Chromium writes) into rows of raw pixel bytes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    height = channels = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and color in (2, 6)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) \
                    & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.skipif(_chromium() is None, reason="needs Chromium (.ci/run installs Debian's)")
def test_report_renders_in_headless_chromium(evil_run, tmp_path):
    shot = tmp_path / "report.png"
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1200,1600",
               "--proxy-server=127.0.0.1:9",  # any network fetch would fail: none is needed
               f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
               (evil_run / "report.html").as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert shot.exists(), done.stderr[-2000:]
    width, height, rows = _png_pixels(shot.read_bytes())
    assert (width, height) == (1200, 1600)
    distinct = {row[i:i + 3] for row in rows[::8] for i in range(0, len(row), 48)}
    assert len(distinct) > 20, "the screenshot is blank"
    dom = subprocess.run([*command[:-2], "--dump-dom", (evil_run / "report.html").as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert "synthdata report" in dom and "<script>alert" not in dom


def test_sigint_during_fit_leaves_no_synthetic_file(tmp_path):
    table = tmp_path / "table.csv"
    make_demo_table(2000, seed=1).to_csv(table, index=False)
    out = tmp_path / "out"
    # A foreground run in a terminal has Ctrl-C's default handler. A job started with `&` by a
    # non-interactive shell (as some CI runners start the suite) inherits SIGINT *ignored*, and
    # Python keeps it ignored, so the Ctrl-C would be lost (it was, once: the fit ran its 500
    # epochs). The child sets the default handler first, as in a terminal, then runs the CLI.
    foreground = ("import runpy, signal, sys; signal.signal(signal.SIGINT, "
                  "signal.default_int_handler); sys.argv[0] = 'synthdata'; "
                  "runpy.run_module('synthdata.cli', run_name='__main__')")
    proc = subprocess.Popen(
        [sys.executable, "-c", foreground, "run", str(table), "--schema",
         str(ROOT / "schemas" / "demo.yaml"), "--synthesizer", "ctgan", "--epochs", "500",
         "--out", str(out), "--format", "csv"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ})
    assert proc.stderr is not None
    deadline = time.monotonic() + 120
    seen = ""
    while "fitting" not in seen and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
    assert "fitting" in seen, seen
    time.sleep(3)  # well inside the 500 epochs
    assert proc.poll() is None, "finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, seen + err
    left = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert not [n for n in left if n.startswith("synthetic")], left
    assert not [n for n in left if n.endswith(".tmp")], left
    assert "manifest.json" not in left


def test_csv_export_of_a_hyperlink_formula_does_not_start_with_equals(tmp_path):
    from synthdata.io import write_table

    cell = '=HYPERLINK("http://x")'
    path = write_table(pd.DataFrame({"t": [cell, "ok"]}), tmp_path / "x.csv", fmt="csv")
    back = pd.read_csv(path, dtype=str)
    assert not back["t"][0].startswith("=") and back["t"][0].endswith(cell)


def test_demo_prints_the_verdict_and_the_report_path(demo_run):
    out, result = demo_run
    assert result.exit_code in (0, 1), result.output
    assert re.search(r"verdict: (PASSED|FAILED)", result.output)
    assert str(out / "report.html") in result.output
    assert json.loads((out / "report.json").read_text())["gate"]["passed"] == (
        result.exit_code == 0)


def _cli_run(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    table = tmp_path / "table.csv"
    if not table.exists():
        make_demo_table(600, seed=1).to_csv(table, index=False)
    return subprocess.run(
        [sys.executable, "-m", "synthdata.cli", "run", str(table), "--schema",
         str(ROOT / "schemas" / "demo.yaml"), "--synthesizer", "tvae", "--epochs", "2",
         "--out", str(tmp_path / f"out{len(extra)}"), "--force", *extra],
        capture_output=True, text=True, timeout=300)


def test_progress_shows_epochs_and_stages_and_quiet_silences_it(tmp_path):
    loud = _cli_run(tmp_path)
    assert loud.returncode == 0, loud.stderr
    assert "2/2" in loud.stderr, "the epoch progress bar"
    for stage in ("fitting tvae", "sampling", "scoring fidelity", "scoring privacy",
                  "scoring bias"):
        assert stage in loud.stderr
    quiet = _cli_run(tmp_path, "--quiet")
    assert quiet.returncode == 0, quiet.stderr
    # warnings (here: the recorded --force override) still show; progress does not
    assert "it/s" not in quiet.stderr and "scoring" not in quiet.stderr
    assert "fitting" not in quiet.stderr


def test_the_library_prints_nothing_while_fitting(capfd):
    from synthdata.demo import demo_schema
    from synthdata.synthesizers import get_synthesizer

    schema = demo_schema()
    train = schema.validate_table(make_demo_table(300, seed=1))[schema.modelled_columns]
    get_synthesizer("ctgan", schema, epochs=2, batch_size=100, seed=0).fit(train).sample(50)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
