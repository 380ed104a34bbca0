"""The README's Python example and its CI command are executable documentation."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_python_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert blocks, "the README has a Python example"
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    assert (tmp_path / "out" / "report.json").exists()
    assert (tmp_path / "out" / "ctgan-model" / "synthdata_model.json").exists()


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
