from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from synthdata.errors import DataError, SchemaError
from synthdata.schema import json_schema, load_schema, schema_from_dict

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_schemas_load():
    for path in sorted((ROOT / "schemas").glob("*.yaml")):
        schema = load_schema(path)
        assert schema.columns, path


def test_schema_json_is_exported_from_the_model():
    on_disk = json.loads((ROOT / "schemas" / "schema.json").read_text())
    hint = "regenerate: synthdata schema json > schemas/schema.json"
    assert on_disk == json.loads(json_schema()), hint


def test_every_structural_problem_is_listed_at_once():
    data = {
        "columns": {"a": {"kind": "foo"}, "b": {"kind": "integer", "bogus": 1}},
        "gate": {"max_mia_auc": 3},
        "split": {"holdout": 1.5},
    }
    with pytest.raises(SchemaError) as info:
        schema_from_dict(data)
    text = str(info.value)
    assert len(info.value.problems) == 4
    for needle in ("columns.a.kind", "columns.b.bogus", "gate.max_mia_auc", "split.holdout"):
        assert needle in text
    assert "allowed values" in text and "remove it" in text


def test_every_semantic_problem_is_listed_with_its_fix():
    data = {
        "target": "nope",
        "sensitive": ["ghost"],
        "primary_key": "a",
        "synthesizer": {"name": "gan9000"},
        "columns": {
            "a": {"kind": "integer", "min": 5, "max": 1},
            "c": {"kind": "numerical", "categories": ["x"]},
            "o": {"kind": "ordinal"},
            "d": {"kind": "datetime", "datetime_format": "YYYY"},
        },
    }
    with pytest.raises(SchemaError) as info:
        schema_from_dict(data)
    problems = info.value.problems
    joined = "\n".join(problems)
    assert len(problems) == 8, joined
    assert "target: column 'nope'" in joined
    assert "sensitive: column 'ghost'" in joined
    assert "primary_key: column 'a' must have kind id" in joined
    assert "synthesizer.name" in joined
    assert "min (5) is greater than max (1)" in joined
    assert "columns.c.categories" in joined
    assert "columns.o: an ordinal column needs 'categories'" in joined
    assert "columns.d.datetime_format" in joined
    assert all(";" in p for p in problems), "each problem ends with its fix"


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ncolumns:\n  a: {kind: integer\n  b: [\n")
    with pytest.raises(SchemaError, match=r"invalid YAML at line \d+"):
        load_schema(path)


def test_missing_and_empty_schema_files(tmp_path):
    with pytest.raises(SchemaError, match="file not found"):
        load_schema(tmp_path / "nope.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(SchemaError, match="empty"):
        load_schema(empty)


def test_schema_error_is_a_value_error():
    with pytest.raises(ValueError):
        schema_from_dict({"columns": {"a": "nonsense"}})


def test_shorthand_kind():
    schema = schema_from_dict({"columns": {"a": "integer", "b": "categorical"}})
    assert schema.columns["a"].kind.value == "integer"


def _schema():
    return schema_from_dict({
        "target": "y",
        "columns": {
            "n": {"kind": "integer", "min": 0, "max": 10, "nullable": False},
            "f": "numerical",
            "c": {"kind": "categorical", "categories": ["a", "b"]},
            "b": "boolean",
            "d": {"kind": "datetime", "datetime_format": "%Y-%m-%d"},
            "y": "categorical",
        },
    })


def _frame(n=20):
    return pd.DataFrame({
        "n": [str(i % 10) for i in range(n)],
        "f": [f"{i / 3:.3f}" for i in range(n)],
        "c": ["a", "b"] * (n // 2),
        "b": ["true", "false"] * (n // 2),
        "d": [f"2020-01-{i % 28 + 1:02d}" for i in range(n)],
        "y": ["0", "1"] * (n // 2),
    })


def test_valid_table_is_typed():
    typed = _schema().validate_table(_frame())
    assert str(typed["n"].dtype) == "Int64"
    assert typed["f"].dtype == "float64"
    assert str(typed["b"].dtype) == "boolean"
    assert str(typed["d"].dtype).startswith("datetime64")


def test_every_data_problem_is_listed_with_column_count_row_and_fix():
    df = _frame()
    df.loc[3, "n"] = "abc"
    df.loc[5, "n"] = "11"
    df.loc[[6, 7], "n"] = None
    df.loc[4, "c"] = "zzz"
    df.loc[2, "b"] = "maybe"
    df.loc[8, "d"] = "31/12/2020"
    df["f"] = None
    df["extra"] = 1
    df = df.drop(columns=["y"])
    with pytest.raises(DataError) as info:
        _schema().validate_table(df)
    joined = "\n".join(info.value.problems)
    assert "column 'y': declared in the schema but missing" in joined
    assert "column 'extra': in the table but not declared" in joined
    assert "column 'n': expected numbers, found 'abc' in 1 row(s) (first at row 4)" in joined
    assert "column 'n': expected values at most 10, found '11'" in joined
    assert "column 'n': declared nullable: false, found 2 empty row(s) (first at row 7)" in joined
    assert "column 'c': expected one of the declared categories, found 1 unknown value(s) 'zzz'" \
        in joined
    assert "column 'b': expected true/false values, found 'maybe'" in joined
    assert "column 'd': expected dates in format '%Y-%m-%d', found '31/12/2020'" in joined
    assert "column 'f': expected values, found all 20 rows empty" in joined


def test_constant_column_one_class_target_and_too_few_rows():
    df = _frame(20)
    df["c"] = "a"
    df["y"] = "1"
    problems = _schema().problems(df)
    joined = "\n".join(problems)
    assert "column 'c': expected varying values, found the constant 'a'" in joined
    assert "target 'y': expected at least two classes, found only '1'" in joined
    problems = _schema().problems(_frame(4))
    assert any("expected at least 10 rows" in p for p in problems)


def test_header_only_table():
    problems = _schema().problems(_frame(0))
    assert any("no data rows" in p for p in problems)


def test_structural_and_reference_problems_together_and_dotted_names():
    data = {
        "target": "nope",
        "sensitive": ["ghost"],
        "columns": {"addr.street": {"kind": "foo"}, "m": {"kind": "integer", "nullable": "maybe"}},
    }
    with pytest.raises(SchemaError) as info:
        schema_from_dict(data)
    joined = "\n".join(info.value.problems)
    assert "columns.addr.street.kind" in joined
    assert "columns.m.nullable" in joined
    assert "target: column 'nope'" in joined and "sensitive: column 'ghost'" in joined


def test_unquoted_yaml_scalars(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("columns:\n  ok: {kind: categorical, categories: [yes, no]}\n"
                    "  d: {kind: datetime, min: 2018-01-01}\n")
    with pytest.raises(SchemaError) as info:
        load_schema(path)
    assert len(info.value.problems) == 1
    assert "quote them" in info.value.problems[0]
    path.write_text("columns:\n  c: {kind: categorical, categories: [1.0, 2.0]}\n"
                    "  d: {kind: datetime, min: 2018-01-01}\n")
    schema = load_schema(path)
    df = pd.DataFrame({"c": ["1", "2"] * 10, "d": ["2019-05-01", "2017-01-01"] * 10})
    problems = schema.problems(df)
    assert len(problems) == 1 and "values at least 2018-01-01" in problems[0]


def test_schema_folder_and_non_utf8(tmp_path):
    with pytest.raises(SchemaError, match="is a folder"):
        load_schema(tmp_path)
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\ncolumns: {a: integer}\n".encode("latin-1"))
    with pytest.raises(SchemaError, match="UTF-8"):
        load_schema(path)


def test_infinite_and_huge_numbers_are_data_errors():
    schema = schema_from_dict({"columns": {"x": "numerical", "i": "integer"}})
    df = pd.DataFrame({"x": ["1.5", "inf"] * 10, "i": ["1", "99999999999999999999"] * 10})
    joined = "\n".join(schema.problems(df))
    assert "column 'x': expected finite numbers, found 'inf'" in joined
    assert "column 'i': expected whole numbers below 9.2e18" in joined


def test_time_zones_are_read_and_ranges_checked():
    schema = schema_from_dict({"columns": {
        "t": {"kind": "datetime", "min": "2020-01-01", "max": "2020-12-31"}, "v": "integer"}})
    df = pd.DataFrame({"t": ["2020-03-01T10:00:00+02:00", "2020-03-01T10:00:00-05:00",
                             "2021-06-01T00:00:00+00:00", "2020-05-05"] * 5,
                       "v": [str(i) for i in range(20)]})
    typed, problems = schema.conform(df)
    assert str(typed["t"].dtype) == "datetime64[ns]"
    assert typed["t"].iloc[0] == pd.Timestamp("2020-03-01 08:00:00")
    assert len(problems) == 1 and "values at most 2020-12-31" in problems[0]


def test_stratify_false_is_respected_when_holdout_is_overridden():
    data = {"target": "y", "split": {"stratify": False},
            "columns": {"y": "categorical", "v": "integer"}}
    df = pd.DataFrame({"y": ["a"] * 19 + ["b"], "v": [str(i) for i in range(20)]})
    assert schema_from_dict(data).problems(df, holdout=0.3) == []
    data["split"]["stratify"] = True
    assert any("split.stratify: false" in p for p in schema_from_dict(data).problems(df))
