"""A generated table of hostile inputs across run, evaluate, balance, augment, sample and schema
infer/check: hostile tables x commands, hostile schemas x commands, hostile options.

Each case must end with exit 0, 1 or 2 (never 3, an internal error), print no traceback,
answer within 30 s, and on exit 2 write nothing: no output folder or file appears and every
input keeps its sha256.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import random
import shutil
from pathlib import Path

import pandas as pd
import pytest
from test_hostile import ROOT, invoke

from synthdata.demo import make_demo_table

GOOD_ROWS = 200


def _good_table() -> pd.DataFrame:
    return make_demo_table(GOOD_ROWS, seed=5)


def _csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode()


def _tables() -> dict[str, bytes | None]:
    """name -> bytes of a hostile table file (None: the path is a folder)."""
    df = _good_table()
    good = _csv(df)
    lines = good.decode().splitlines()
    rng = random.Random(15)
    out: dict[str, bytes | None] = {
        "empty.csv": b"",
        "blank.csv": b"\n\n   \n",
        "header_only.csv": (lines[0] + "\n").encode(),
        "garbage.csv": bytes(rng.randrange(256) for _ in range(3000)),
        "utf16.csv": good.decode().encode("utf-16"),
        "latin1.csv": good.decode().replace("North", "Nörth").encode("latin-1"),
        "extra_field.csv": ("\n".join(lines[:5] + [lines[5] + ",surplus"] + lines[6:])
                            + "\n").encode(),
        "open_quote.csv": ("\n".join(lines[:5] + ['"' + lines[5]] + lines[6:]) + "\n").encode(),
        "semicolons.csv": df.to_csv(index=False, sep=";").encode(),
        "nul.csv": good.replace(b"South", b"So\0uth", 1),
        "dup_header.csv": good.replace(b"income", b"age", 1),
        "missing_column.csv": _csv(df.drop(columns=["income"])),
        "extra_column.csv": _csv(df.assign(shoe_size=42)),
        "text_in_numbers.csv": _csv(df.assign(age=df["age"].astype(object).where(
            df.index != 3, "forty"))),
        "infinity.csv": _csv(df.assign(monthly_spend=df["monthly_spend"].where(
            df.index != 2, float("inf")))),
        "huge_int.csv": _csv(df.assign(support_calls=df["support_calls"].astype(object).where(
            df.index != 1, "1" + "0" * 30))),
        "empty_column.csv": _csv(df.assign(income=None)),
        "one_class.csv": _csv(df.assign(churned=False)),
        "fake.csv.gz": good,
        "cut.csv.gz": gzip.compress(good)[:200],
        "csv_named.parquet": good,
        "folder.csv": None,
        "long_cell.csv": _csv(df.assign(region=df["region"].where(df.index != 4, "x" * 200_000))),
        "bad_dates.csv": _csv(df.assign(signup_date=df["signup_date"].where(
            df.index != 6, "31/31/2020"))),
        "far_dates.csv": _csv(df.assign(signup_date=df["signup_date"].where(
            df.index != 7, "9999-12-31"))),
        "few_rows.csv": _csv(df.iloc[:3]),
        "dup_keys.csv": _csv(df.assign(customer_id=df["customer_id"].where(
            df.index != 1, df["customer_id"].iloc[0]))),
        "table.xlsx": good,
    }
    return out


def _schemas() -> dict[str, bytes]:
    demo = (ROOT / "schemas" / "demo.yaml").read_text()
    bomb = 'a0: &a0 ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 10))
    return {k: v.encode() if isinstance(v, str) else v for k, v in {
        "empty.yaml": "",
        "list.yaml": "- a\n- b\n",
        "scalar.yaml": "42\n",
        "binary.yaml": bytes(range(256)) * 4,
        "bad_syntax.yaml": "name: x\ncolumns:\n  a: {kind: integer\n",
        "tabs.yaml": "name: x\ncolumns:\n\ta: {kind: integer}\n",
        "dup_key.yaml": demo.replace("  autopay:", "  age: {kind: integer}\n  autopay:"),
        "deep.yaml": "name: x\ncolumns: " + "[" * 3000 + "]" * 3000 + "\n",
        "bomb.yaml": bomb + "name: x\ncolumns: *a9\n",
        "unknown_kind.yaml": demo.replace("kind: boolean, nullable: false}\n  churned",
                                          "kind: truthy, nullable: false}\n  churned"),
        "min_over_max.yaml": demo.replace("min: 18, max: 90", "min: 90, max: 18"),
        "target_missing.yaml": demo.replace("target: churned", "target: nope"),
        "sensitive_pii.yaml": demo.replace("sensitive: [sex]", "sensitive: [email]"),
        "unknown_field.yaml": demo + "colour: blue\n",
        "unknown_synth.yaml": demo + "synthesizer:\n  name: magic\n",
        "bad_params.yaml": demo + "synthesizer:\n  params: {wings: 2}\n",
        "negative_epochs.yaml": demo + "synthesizer:\n  epochs: -3\n",
        "seed_param.yaml": demo + "synthesizer:\n  params: {seed: 1}\n",
        "bad_holdout.yaml": demo.replace("holdout: 0.2", "holdout: 1.5"),
        "bad_gate.yaml": demo + "gate:\n  max_dcr_share: 7\n",
        "bad_category_list.yaml": demo.replace("categories: [F, M]", "categories: F"),
        "no_columns.yaml": "name: x\ncolumns: {}\n",
        "python_tag.yaml": "!!python/object/apply:os.system ['echo pwned']\n",
    }.items()}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("generated")
    for name, data in _tables().items():
        if data is None:
            (folder / name).mkdir()
        else:
            (folder / name).write_bytes(data)
    for name, data in _schemas().items():
        (folder / name).write_bytes(data)
    (folder / "good.csv").write_bytes(_csv(_good_table()))
    (folder / "good.yaml").write_text((ROOT / "schemas" / "demo.yaml").read_text())
    return folder


def _cases() -> list[tuple[str, list[str]]]:
    """(id, argv with {f} for the files folder and {o} for the output path)."""
    cases: list[tuple[str, list[str]]] = []
    tables = sorted(_tables())
    schemas = sorted(_schemas())
    # every hostile table through each command that reads one (cycling through commands)
    table_cmds = itertools.cycle([
        ["run", "{f}/%s", "--schema", "{f}/good.yaml", "--out", "{o}", "--epochs", "1"],
        ["balance", "{f}/%s", "--schema", "{f}/good.yaml", "--out", "{o}"],
        ["augment", "{f}/%s", "--schema", "{f}/good.yaml", "--out", "{o}", "--rows", "5"],
        ["evaluate", "--train", "{f}/good.csv", "--holdout", "{f}/good.csv", "--synth",
         "{f}/%s", "--schema", "{f}/good.yaml", "--out", "{o}"],
        ["schema", "check", "{f}/good.yaml", "--table", "{f}/%s"],
        ["schema", "infer", "{f}/%s", "-o", "{o}.yaml"],
    ])
    for table in tables:
        argv = [a.replace("%s", table) for a in next(table_cmds)]
        cases.append((f"table-{table}-{argv[0]}", argv))
    # every hostile schema through run, balance, evaluate or check
    schema_cmds = itertools.cycle([
        ["run", "{f}/good.csv", "--schema", "{f}/%s", "--out", "{o}"],
        ["schema", "check", "{f}/%s"],
        ["balance", "{f}/good.csv", "--schema", "{f}/%s", "--out", "{o}"],
        ["evaluate", "--train", "{f}/good.csv", "--holdout", "{f}/good.csv", "--synth",
         "{f}/good.csv", "--schema", "{f}/%s", "--out", "{o}"],
    ])
    for schema in schemas:
        argv = [a.replace("%s", schema) for a in next(schema_cmds)]
        cases.append((f"schema-{schema}-{argv[0]}", argv))
    # hostile options
    run = ["run", "{f}/good.csv", "--schema", "{f}/good.yaml", "--out", "{o}"]
    for i, extra in enumerate([
        ["--rows", "0"], ["--rows", "-5"], ["--rows", "1000000000000000"], ["--seed", "-1"],
        ["--seed", str(2**40)], ["--holdout", "0"], ["--holdout", "1"], ["--holdout", "nan"],
        ["--format", "xlsx"], ["--synthesizer", "nope"], ["--epochs", "0"],
        ["--device", "tpu"], ["--batch-size", "0"],
    ]):
        cases.append((f"option-run-{i}-{extra[0]}", run + extra))
    bal = ["balance", "{f}/good.csv", "--schema", "{f}/good.yaml", "--out", "{o}"]
    for i, extra in enumerate([
        ["--counts", "garbage"], ["--counts", "True=-4"], ["--counts", "maybe=100"],
        ["--counts", "True=99999999999999"], ["--ratio", "0"], ["--ratio", "2"],
        ["--ratio", "0.5", "--counts", "True=300"],
    ]):
        cases.append((f"option-balance-{i}", bal + extra))
    for i, extra in enumerate([
        ["--model", "{f}/nowhere", "--rows", "5", "--out", "{o}.csv"],
        ["--model", "{f}/good.csv", "--rows", "5", "--out", "{o}.csv"],
        ["--model", "{f}", "--rows", "5", "--out", "{o}.csv"],
        ["--model", "{f}/folder.csv", "--rows", "5", "--out", "{o}.csv"],
    ]):
        cases.append((f"option-sample-{i}", ["sample", *extra]))
    return cases


CASES = _cases()


def test_enough_generated_cases():
    assert len(CASES) >= 40
    commands = {argv[0] if argv[0] != "schema" else " ".join(argv[:2]) for _, argv in CASES}
    assert commands >= {"run", "evaluate", "balance", "augment", "sample", "schema infer",
                        "schema check"}


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("argv", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_input(files, tmp_path, argv):
    out = tmp_path / "out"
    before = _digest(files)
    filled = [a.format(f=files, o=out) for a in argv]
    result = invoke(*filled)
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output[-2000:])
    assert "Traceback" not in result.output and "internal error" not in result.output, \
        result.output[-2000:]
    assert _digest(files) == before, "an input was changed"
    if result.exit_code == 2:
        assert "error" in result.output.lower(), result.output[-500:]
        assert not any(p.exists() for p in (out, Path(f"{out}.yaml"), Path(f"{out}.csv"))), \
            "nothing may be written on bad input"
    for leftover in files.iterdir():  # no temp files beside the inputs
        assert ".tmp" not in leftover.name, leftover
    shutil.rmtree(out, ignore_errors=True)
