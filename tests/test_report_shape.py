"""report.json keeps every key it had before the synthesizer-contract refactor.

``tests/data/report_keys.json`` was written by ``python tests/report_keys.py`` on the code
before the refactor (run, balance, augment, evaluate on an 800-row demo table); the same
commands now must produce a superset of those key paths.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_keys import key_paths, reports

RECORDED = json.loads((Path(__file__).parent / "data" / "report_keys.json").read_text())


@pytest.fixture(scope="module")
def current(tmp_path_factory):
    return reports(tmp_path_factory.mktemp("shape"))


@pytest.mark.parametrize("command", sorted(RECORDED))
def test_report_keeps_every_key(current, command):
    missing = sorted(set(RECORDED[command]) - key_paths(current[command]))
    assert missing == [], f"{command}: report.json lost {missing}"


def test_key_paths_sees_nested_and_listed_keys():
    assert key_paths({"a": {"b": 1}, "c": [{"d": 2}]}) == {"a", "a.b", "c", "c[].d"}
