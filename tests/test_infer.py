from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from faker import Faker

from synthdata.errors import DataError
from synthdata.infer import infer_schema, infer_schema_file, render_schema_yaml
from synthdata.schema import (
    Column,
    ColumnKind,
    GateConfig,
    PiiStrategy,
    PiiType,
    Schema,
    SplitConfig,
    schema_from_dict,
)

N = 200


def people_table(n: int = N) -> pd.DataFrame:
    """A table as the CLI reads a CSV: every value a string, missing as NaN."""
    fake = Faker("en_US")
    fake.seed_instance(42)
    rng = random.Random(42)
    occupations = ["Tech-support", "Sales", "Exec-managerial", "Craft-repair", "Adm-clerical"]
    return pd.DataFrame(
        {
            "id": [str(i) for i in range(1, n + 1)],
            "email": [fake.email() for _ in range(n)],
            "full_name": [fake.name() for _ in range(n)],
            "age": [str(rng.randint(17, 90)) for _ in range(n)],
            "balance": [f"{rng.uniform(-500, 5000):.2f}" for _ in range(n)],
            "children": [str(rng.randint(0, 4)) for _ in range(n)],
            "signup": [fake.date(pattern="%Y-%m-%d") for _ in range(n)],
            "active": [rng.choice(["true", "false"]) for _ in range(n)],
            "occupation": [rng.choice(occupations) for _ in range(n)],
            "sex": [rng.choice(["Female", "Male"]) for _ in range(n)],
            "native-country": [rng.choice(["United-States", "Mexico", None]) for _ in range(n)],
            "device": [fake.unique.bothify("DEV-####-??") for _ in range(n)],
            "review": [fake.paragraph(nb_sentences=2) for _ in range(n)],
            "income": [rng.choice(["<=50K", ">50K"]) for _ in range(n)],
        }
    )


@pytest.fixture(scope="module")
def inferred() -> tuple[Schema, dict[str, list[str]], pd.DataFrame]:
    df = people_table()
    schema, notes = infer_schema(df, name="people")
    return schema, notes, df


def kinds(schema: Schema) -> dict[str, str]:
    return {name: col.kind.value for name, col in schema.columns.items()}


def test_infer_kinds(inferred: tuple[Schema, dict[str, list[str]], pd.DataFrame]) -> None:
    schema, _, df = inferred
    assert list(schema.columns) == list(df.columns)
    assert kinds(schema) == {
        "id": "id",
        "email": "pii",
        "full_name": "pii",
        "age": "integer",
        "balance": "numerical",
        "children": "categorical",
        "signup": "datetime",
        "active": "boolean",
        "occupation": "categorical",
        "sex": "categorical",
        "native-country": "categorical",
        "device": "id",
        "review": "text",
        "income": "categorical",
    }
    assert schema.name == "people"


def test_infer_details(inferred: tuple[Schema, dict[str, list[str]], pd.DataFrame]) -> None:
    schema, notes, df = inferred
    cols = schema.columns
    assert cols["email"].pii_type == PiiType.email
    assert cols["email"].pii_strategy == PiiStrategy.fake
    assert cols["full_name"].pii_type == PiiType.name
    age = pd.to_numeric(df["age"])
    assert (cols["age"].min, cols["age"].max) == (age.min(), age.max())
    assert cols["balance"].min == pytest.approx(pd.to_numeric(df["balance"]).min())
    assert cols["children"].categories == ["0", "1", "2", "3", "4"]
    assert cols["signup"].datetime_format == "%Y-%m-%d"
    assert cols["occupation"].categories == sorted(set(df["occupation"]))
    assert cols["native-country"].nullable is True
    assert cols["native-country"].categories == ["Mexico", "United-States"]
    assert cols["sex"].nullable is False
    assert schema.target == "income"
    assert schema.sensitive == ["age", "sex", "native-country"]
    assert schema.primary_key == "id"
    assert any("observed range" in n for n in notes["age"])
    assert any("categorical" in n for n in notes["children"])
    assert any("PII" in n for n in notes["email"])
    assert any("target" in n for n in notes["income"])
    assert any("confirm" in n for n in notes["sex"])
    assert "" not in notes or not any("target" in n for n in notes[""])
    assert schema.semantic_problems() == []


def test_inferred_schema_accepts_its_own_table(
    inferred: tuple[Schema, dict[str, list[str]], pd.DataFrame],
) -> None:
    schema, _, df = inferred
    assert schema.problems(df) == []


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (["3", "17", "-4", "250", "8", "99", "1000", "12", "45", "7", "61", "5"], "integer"),
        (["3.5", "17", "-4.25", "250", "8", "99", "1000", "12", "45", "7.75", "61", "5"],
         "numerical"),
        (["1", "2", "3", "1", "2", "3", "1", "2", "3", "1", "2", "3"], "categorical"),
        (["0.5", "1.5", "0.5", "1.5", "0.5", "1.5", "0.5", "1.5", "0.5", "1.5"], "categorical"),
        (["yes", "no", "no", "yes", "yes", "no", "no", "no", "yes", "no"], "boolean"),
        (["True", "False", "False", "True", "True", "False", "False", None, "True"], "boolean"),
        (["02139", "10001", "94105", "00501", "60601", "30301", "73301", "98101"], "id"),
        (["a", "b", "c", "a", "b", "c", "a", "b", "c", "c"], "categorical"),
    ],
)  # fmt: skip
def test_infer_column_kind(values: list[str | None], kind: str) -> None:
    schema, _ = infer_schema(pd.DataFrame({"col": values}))
    assert schema.columns["col"].kind.value == kind


def test_low_cardinality_needs_few_values_relative_to_rows() -> None:
    few_rows = pd.DataFrame({"col": ["1", "2", "3", "4", "5"]})
    many_rows = pd.DataFrame({"col": [str(i % 5) for i in range(100)]})
    assert infer_schema(few_rows)[0].columns["col"].kind == ColumnKind.integer
    assert infer_schema(many_rows)[0].columns["col"].kind == ColumnKind.categorical


@pytest.mark.parametrize(
    "fmt",
    [
        "%Y-%m-%d",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%d/%m/%Y",
        "%m/%d/%Y",
        "%Y/%m/%d",
    ],
)
def test_infer_datetime_format(fmt: str) -> None:
    start = pd.Timestamp("2021-01-01 08:30:15")
    stamps = [start + pd.Timedelta(days=3 * i, minutes=7 * i) for i in range(40)]
    schema, notes = infer_schema(pd.DataFrame({"when": [t.strftime(fmt) for t in stamps]}))
    col = schema.columns["when"]
    assert col.kind == ColumnKind.datetime
    assert col.datetime_format == fmt
    assert not any("ambiguous" in n for n in notes.get("when", []))


def test_infer_datetime_needs_95_percent() -> None:
    dates = [f"2020-02-{d:02d}" for d in range(1, 29)]
    mostly = dates + ["not a date"]  # 28 of 29 = 96.6%
    half = dates[:14] + [f"word{i}" for i in range(14)]
    schema, notes = infer_schema(pd.DataFrame({"a": mostly, "b": half[: len(mostly)] + [None]}))
    assert schema.columns["a"].kind == ColumnKind.datetime
    assert any("do not parse" in n for n in notes["a"])
    assert schema.columns["b"].kind != ColumnKind.datetime


def test_infer_ambiguous_day_month_is_noted() -> None:
    values = [f"{d:02d}/{m:02d}/2022" for d in range(1, 13) for m in (1, 6)]
    schema, notes = infer_schema(pd.DataFrame({"when": values}))
    assert schema.columns["when"].kind == ColumnKind.datetime
    assert any("ambiguous" in n for n in notes["when"])


def test_infer_typed_frame_matches_text_frame() -> None:
    rng = np.random.default_rng(0)
    n = 80
    typed = pd.DataFrame(
        {
            "order_id": np.arange(1, n + 1),
            "amount": rng.normal(100, 20, n).round(2),
            "qty": pd.array(rng.integers(1, 200, n), dtype="Int64"),
            "flag": rng.integers(0, 2, n).astype(bool),
            "tier": rng.integers(1, 4, n),
            "at": pd.date_range("2021-01-01", periods=n, freq="h"),
        }
    )
    typed.loc[5, "qty"] = pd.NA
    schema, _ = infer_schema(typed)
    assert kinds(schema) == {
        "order_id": "id",
        "amount": "numerical",
        "qty": "integer",
        "flag": "boolean",
        "tier": "categorical",
        "at": "datetime",
    }
    assert schema.columns["qty"].nullable is True
    assert schema.columns["tier"].categories == ["1", "2", "3"]
    assert schema.primary_key == "order_id"
    assert schema.problems(typed) == []

    as_text = typed.astype(object).where(typed.notna(), None).astype(str)
    as_text = as_text.where(typed.notna(), None)
    as_text["at"] = typed["at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    text_schema, _ = infer_schema(as_text)
    assert kinds(text_schema) == kinds(schema)


def test_systematic_customer_key_is_the_primary_key_and_free_ids_are_pii() -> None:
    fake = Faker()
    fake.seed_instance(8)
    df = pd.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(50)],
            "user_id": [fake.unique.bothify("??######") for _ in range(50)],
        }
    )
    schema, notes = infer_schema(df)
    assert schema.columns["customer_id"].kind == ColumnKind.id
    assert schema.primary_key == "customer_id"
    assert schema.columns["user_id"].kind == ColumnKind.pii
    assert schema.columns["user_id"].pii_type == PiiType.free_text_id
    assert any("kind: id" in n for n in notes["user_id"])


def test_no_target_and_no_sensitive_leave_table_notes() -> None:
    df = pd.DataFrame({"a": [str(i) for i in range(30)], "b": ["x", "y", "z"] * 10})
    schema, notes = infer_schema(df)
    assert schema.target is None
    assert schema.sensitive == []
    assert schema.primary_key is None
    assert any("target" in n for n in notes[""])
    assert any("sensitive" in n for n in notes[""])


@pytest.mark.parametrize(
    ("name", "sensitive"),
    [
        ("sex", True),
        ("Gender", True),
        ("race", True),
        ("ethnicity", True),
        ("religion", True),
        ("native-country", True),
        ("disability", True),
        ("age", True),
        ("AGE", True),
        ("age_group", True),
        ("patient_age", True),
        ("housing_median_age", False),
        ("HouseAge", False),
        ("page", False),
        ("occupation", False),
        ("education", False),
    ],
)
def test_sensitive_guess(name: str, sensitive: bool) -> None:
    df = pd.DataFrame({name: ["a", "b", "c", "d"] * 10, "other": [str(i) for i in range(40)]})
    schema, notes = infer_schema(df)
    assert (schema.sensitive == [name]) is sensitive
    assert any("sensitive" in n for n in notes.get(name, [])) is sensitive


def test_target_is_never_an_id_or_pii() -> None:
    fake = Faker()
    fake.seed_instance(1)
    df = pd.DataFrame(
        {
            "label": [fake.email() for _ in range(30)],
            "churned": ["yes", "no", "no"] * 10,
        }
    )
    schema, _ = infer_schema(df)
    assert schema.columns["label"].kind == ColumnKind.pii
    assert schema.target == "churned"


def test_target_prefers_classes_to_numbers() -> None:
    rng = random.Random(2)
    df = pd.DataFrame(
        {
            "income": [str(rng.randint(5_000, 200_000)) for _ in range(60)],
            "churned": [rng.choice(["yes", "no"]) for _ in range(60)],
        }
    )
    assert infer_schema(df)[0].target == "churned"
    assert infer_schema(df[["income"]])[0].target == "income"


def test_infer_rejects_empty_frames() -> None:
    with pytest.raises(DataError, match="data row"):
        infer_schema(pd.DataFrame({"a": pd.Series([], dtype=str)}))
    with pytest.raises(DataError, match="column"):
        infer_schema(pd.DataFrame())


# ---- YAML -------------------------------------------------------------------------------


def test_yaml_round_trip(inferred: tuple[Schema, dict[str, list[str]], pd.DataFrame]) -> None:
    schema, notes, _ = inferred
    text = render_schema_yaml(schema, notes)
    assert schema_from_dict(yaml.safe_load(text)) == schema


def test_yaml_has_draft_header_and_review_comments(
    inferred: tuple[Schema, dict[str, list[str]], pd.DataFrame],
) -> None:
    schema, notes, _ = inferred
    text = render_schema_yaml(schema, notes)
    lines = text.splitlines()
    assert lines[0].startswith("#") and "DRAFT" in lines[0]
    review = [line for line in lines if "# REVIEW" in line]
    assert len(review) >= 8
    # the comment for a column sits right above it
    email_at = next(i for i, line in enumerate(lines) if line.startswith("  email:"))
    above = []
    for line in reversed(lines[:email_at]):
        if not line.lstrip().startswith("#"):
            break
        above.append(line)
    assert any("# REVIEW: PII" in line for line in above)
    assert any(line.startswith("target:") and "# REVIEW" in line for line in lines)
    assert "split:  # defaults; see README" in lines
    assert "gate:  # defaults; see README" in lines
    assert "  holdout: 0.2" in lines
    assert all(len(line) <= 100 for line in lines if not line.lstrip().startswith("categories"))


def test_yaml_writes_only_non_default_column_fields(
    inferred: tuple[Schema, dict[str, list[str]], pd.DataFrame],
) -> None:
    schema, notes, _ = inferred
    data = yaml.safe_load(render_schema_yaml(schema, notes))
    assert data["columns"]["native-country"] == {
        "kind": "categorical",
        "categories": ["Mexico", "United-States"],
        "inferred": True,
    }
    assert data["columns"]["active"] == {"kind": "boolean", "nullable": False, "inferred": True}
    assert data["split"] == SplitConfig().model_dump()
    assert data["gate"] == GateConfig().model_dump()


def test_yaml_round_trip_with_awkward_names_and_values() -> None:
    schema = Schema(
        name="odd: table",
        description='quotes " and # hashes',
        columns={
            "yes": Column(kind=ColumnKind.categorical, categories=["no", "1", "1.0", "null"]),
            "a: b": Column(kind=ColumnKind.categorical, categories=["x # y", "ünïcödé", "'q'"]),
            "2020": Column(kind=ColumnKind.numerical, min=-1.5, max=1e20, nullable=False),
            "when": Column(kind=ColumnKind.datetime, datetime_format="%d/%m/%Y", min="2020-01-01"),
            "many": Column(
                kind=ColumnKind.categorical, categories=[f"category number {i}" for i in range(60)]
            ),
            "secret": Column(
                kind=ColumnKind.pii, pii_type=PiiType.phone, pii_strategy=PiiStrategy.hash
            ),
            "id": Column(kind=ColumnKind.id, nullable=False),
        },
        target="yes",
        sensitive=["a: b"],
        quasi_identifiers=["2020", "when"],
        primary_key="id",
        split=SplitConfig(holdout=0.3, stratify=False),
        gate=GateConfig(max_mia_auc=0.7),
    )
    notes = {"": ["table note"], "yes": ["a very long note " * 12], "nope": ["ignored"]}
    text = render_schema_yaml(schema, notes)
    assert schema_from_dict(yaml.safe_load(text)) == schema
    assert "split:  # see README" in text.splitlines()


def test_render_inferred_yaml_for_many_shapes() -> None:
    rng = random.Random(3)
    df = pd.DataFrame(
        {
            "city": [f"City {rng.randint(0, 80)}" for _ in range(300)],
            "code": [f"C{rng.randint(0, 10**6)}" for _ in range(300)],
            "constant": ["same"] * 300,
            "empty": [None] * 300,
        }
    )
    schema, notes = infer_schema(df)
    assert schema.columns["city"].kind == ColumnKind.categorical
    assert len(schema.columns["city"].categories or []) > 50
    assert any("constant" in n for n in notes["constant"])
    assert any("empty" in n for n in notes["empty"])
    assert schema_from_dict(yaml.safe_load(render_schema_yaml(schema, notes))) == schema


# ---- files ------------------------------------------------------------------------------


def test_infer_schema_file_csv_and_parquet(tmp_path: Path) -> None:
    df = people_table(60)
    csv_path = tmp_path / "people.csv"
    df.to_csv(csv_path, index=False)
    schema, notes = infer_schema_file(csv_path)
    assert schema.name == "people"
    expected, _ = infer_schema(df, name="people")
    assert kinds(schema) == kinds(expected)
    assert schema.columns["native-country"].nullable is True

    typed = pd.DataFrame(
        {"id": range(30), "x": [i * 0.5 for i in range(30)], "s": ["a", "b", "c"] * 10}
    )
    pq_path = tmp_path / "typed.parquet"
    typed.to_parquet(pq_path)
    schema, _ = infer_schema_file(pq_path, name="custom")
    assert schema.name == "custom"
    assert kinds(schema) == {"id": "id", "x": "numerical", "s": "categorical"}


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "the file is empty"), ("a,b,c\n", "no data rows")],
)
def test_infer_schema_file_empty_csv(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message) as info:
        infer_schema_file(path)
    assert "expected" in str(info.value)


def test_infer_schema_file_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        infer_schema_file(tmp_path / "missing.csv")
    other = tmp_path / "table.xlsx"
    other.write_text("x")
    with pytest.raises(DataError, match=r"\.csv or \.parquet"):
        infer_schema_file(other)


def test_infer_does_not_import_heavy_dependencies() -> None:
    code = (
        "import sys, pandas as pd\n"
        "from synthdata.infer import infer_schema, render_schema_yaml\n"
        "from synthdata.pii import fill_pii\n"
        "s, n = infer_schema(pd.DataFrame({'email': ['a@b.com', 'c@d.org'], 'x': ['1', '2']}))\n"
        "render_schema_yaml(s, n)\n"
        "bad = [m for m in ('torch', 'sdv', 'sdmetrics', 'ctgan') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
