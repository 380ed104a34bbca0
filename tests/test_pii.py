from __future__ import annotations

import hashlib
import hmac
import random

import faker.generator
import pandas as pd
import pytest
from faker import Faker

from synthdata.errors import DataError, ParameterError
from synthdata.pii import detect_pii, fill_pii, pii_report
from synthdata.schema import Column, ColumnKind, PiiStrategy, PiiType, Schema

N = 120


@pytest.fixture
def fake() -> Faker:
    instance = Faker("en_US")
    instance.seed_instance(1234)
    return instance


def neutral_values(n: int = N) -> pd.Series:
    """Distinct values that look like nothing in particular (no pattern, not categorical)."""
    return pd.Series([f"value {i}" for i in range(n)])


# ---- detection by name ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("email", PiiType.email),
        ("e-mail", PiiType.email),
        ("E_Mail", PiiType.email),
        ("contact_email", PiiType.email),
        ("emailAddress", PiiType.email),
        ("phone", PiiType.phone),
        ("Mobile", PiiType.phone),
        ("tel", PiiType.phone),
        ("phone_number", PiiType.phone),
        ("first_name", PiiType.first_name),
        ("FirstName", PiiType.first_name),
        ("surname", PiiType.last_name),
        ("last_name", PiiType.last_name),
        ("full_name", PiiType.name),
        ("customer_name", PiiType.name),
        ("name", PiiType.name),
        ("address", PiiType.address),
        ("street", PiiType.address),
        ("home_address", PiiType.address),
        ("ssn", PiiType.national_id),
        ("national_id", PiiType.national_id),
        ("passport", PiiType.national_id),
        ("tax_id", PiiType.national_id),
        ("nin", PiiType.national_id),
        ("username", PiiType.free_text_id),
    ],
)
def test_detect_by_name_alone(name: str, expected: PiiType) -> None:
    assert detect_pii(name, neutral_values()) == expected


def test_detect_by_name_on_an_empty_column() -> None:
    assert detect_pii("email", pd.Series([None, None], dtype=object)) == PiiType.email


def test_person_linked_id_needs_unique_mixed_values(fake: Faker) -> None:
    codes = pd.Series([fake.unique.bothify("??######") for _ in range(N)])
    assert detect_pii("user_id", codes) == PiiType.free_text_id
    assert detect_pii("CustomerID", codes) == PiiType.free_text_id
    # plain row numbers are ids, not personal data
    assert detect_pii("user_id", pd.Series([str(i) for i in range(N)])) is None
    # an order is not a person
    assert detect_pii("order_id", codes) is None
    # a systematic key with a fixed prefix is a key, not free text
    keys = pd.Series([f"C{i:06d}" for i in range(N)])
    assert detect_pii("customer_id", keys) is None
    usernames = pd.Series([f"{fake.user_name()}{i}" for i in range(N)])
    assert detect_pii("user_id", usernames) == PiiType.free_text_id


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("email_verified", ["yes", "no"] * 30),
        ("has_phone", ["true", "false"] * 30),
        ("phone_type", ["mobile", "landline", "voip"] * 20),
        ("num_addresses", [str(i % 4) for i in range(60)]),
        ("last_login", [f"2021-03-{d:02d} 10:{d:02d}:00" for d in range(1, 29)]),
        ("handle_time", [str(17 + 3 * i) for i in range(60)]),
        # a `name` column that names product categories, not people
        ("name", ["Home Garden", "Office Supplies", "Toys Games", "Sports", "Books"] * 20),
    ],
)
def test_name_is_overruled_by_flag_or_category_values(name: str, values: list[str]) -> None:
    assert detect_pii(name, pd.Series(values)) is None


# ---- detection by values ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("email", PiiType.email),
        ("free_email", PiiType.email),
        ("phone_number", PiiType.phone),
        ("ssn", PiiType.national_id),
        ("street_address", PiiType.address),
        ("address", PiiType.address),
        ("name", PiiType.name),
        ("ipv4", PiiType.other),
    ],
)
def test_detect_by_values_alone(fake: Faker, method: str, expected: PiiType) -> None:
    values = pd.Series([getattr(fake, method)() for _ in range(N)])
    assert detect_pii("col7", values) == expected


def test_values_need_a_majority(fake: Faker) -> None:
    emails = [fake.email() for _ in range(N)]
    words = [f"{fake.word()} {i}" for i in range(N)]
    half = pd.Series(emails[: N // 2] + words[: N // 2])
    most = pd.Series(emails[: int(N * 0.7)] + words[: N - int(N * 0.7)])
    assert detect_pii("col7", half) is None
    assert detect_pii("col7", most) == PiiType.email


def test_values_ignore_missing(fake: Faker) -> None:
    values = pd.Series([fake.ssn() if i % 3 else None for i in range(N)], dtype=object)
    assert detect_pii("col7", values) == PiiType.national_id


def test_values_win_over_a_vaguer_name(fake: Faker) -> None:
    assert detect_pii("name", pd.Series([fake.email() for _ in range(N)])) == PiiType.email
    # the name is more specific than "some person name"
    assert detect_pii("surname", pd.Series([fake.name() for _ in range(N)])) == PiiType.last_name


ADULT_LIKE = {
    "occupation": ["Tech-support", "Craft-repair", "Other-service", "Sales", "Exec-managerial",
                   "Prof-specialty", "Handlers-cleaners", "Machine-op-inspct", "Adm-clerical"],
    "native-country": ["United-States", "Mexico", "Philippines", "Germany", "Canada", "India",
                       "Puerto-Rico", "El-Salvador", "Cuba", "England"],
    "marital-status": ["Married-civ-spouse", "Divorced", "Never-married", "Separated",
                       "Widowed", "Married-spouse-absent"],
    "education": ["Bachelors", "Some-college", "11th", "HS-grad", "Prof-school", "Masters",
                  "Doctorate", "Assoc-voc", "9th"],
    "workclass": ["Private", "Self-emp-not-inc", "Federal-gov", "Local-gov", "State-gov"],
    "relationship": ["Wife", "Own-child", "Husband", "Not-in-family", "Unmarried"],
    "country": ["United States", "New Zealand", "South Africa", "United Kingdom", "Costa Rica",
                "Sri Lanka", "Saudi Arabia", "El Salvador"],
}  # fmt: skip


@pytest.mark.parametrize("column", sorted(ADULT_LIKE))
def test_no_false_positives_on_categories(column: str) -> None:
    rng = random.Random(0)
    values = pd.Series([rng.choice(ADULT_LIKE[column]) for _ in range(400)])
    assert detect_pii(column, values) is None
    assert detect_pii("col7", values) is None


def test_no_false_positives_on_numbers_dates_and_text(fake: Faker) -> None:
    rng = random.Random(0)
    columns = {
        "hours-per-week": pd.Series([rng.randint(1, 99) for _ in range(N)]),
        "fnlwgt": pd.Series([str(rng.randint(10_000, 1_500_000)) for _ in range(N)]),
        "amount": pd.Series([f"{rng.uniform(0, 1e6):.4f}" for _ in range(N)]),
        "big": pd.Series([str(rng.randint(10**9, 10**10)) for _ in range(N)]),
        "date": pd.Series([fake.date() for _ in range(N)]),
        "when": pd.Series([fake.date(pattern="%d.%m.%Y") for _ in range(N)]),
        "moment": pd.Series([str(fake.date_time()) for _ in range(N)]),
        "review": pd.Series([fake.sentence() for _ in range(N)]),
        "city": pd.Series([fake.city() for _ in range(N)]),
        "job": pd.Series([fake.job() for _ in range(N)]),
        "company": pd.Series([fake.company() for _ in range(N)]),
        "uuid": pd.Series([fake.uuid4() for _ in range(N)]),
        "order_code": pd.Series([fake.bothify("ORD-####-??") for _ in range(N)]),
    }
    found = {name: detect_pii(name, values) for name, values in columns.items()}
    found.update({f"col7 ({name})": detect_pii("col7", v) for name, v in columns.items()})
    assert {k: v for k, v in found.items() if v is not None} == {}


# ---- fill_pii -----------------------------------------------------------------------------

KEY = b"0123456789abcdef-per-run-key"


def pii_schema() -> Schema:
    return Schema(
        name="people",
        columns={
            "id": Column(kind=ColumnKind.id, nullable=False),
            "full_name": Column(kind=ColumnKind.pii, pii_type=PiiType.name),
            "given": Column(kind=ColumnKind.pii, pii_type=PiiType.first_name),
            "family": Column(kind=ColumnKind.pii, pii_type=PiiType.last_name),
            "age": Column(kind=ColumnKind.integer, min=0, max=120),
            "email": Column(kind=ColumnKind.pii, pii_type=PiiType.email),
            "phone": Column(kind=ColumnKind.pii, pii_type=PiiType.phone),
            "address": Column(kind=ColumnKind.pii, pii_type=PiiType.address),
            "ssn": Column(kind=ColumnKind.pii, pii_type=PiiType.national_id),
            "login": Column(kind=ColumnKind.pii, pii_type=PiiType.free_text_id),
            "device": Column(kind=ColumnKind.pii, pii_type=PiiType.other),
            "token": Column(
                kind=ColumnKind.pii, pii_type=PiiType.email, pii_strategy=PiiStrategy.hash
            ),
            "secret": Column(
                kind=ColumnKind.pii, pii_type=PiiType.phone, pii_strategy=PiiStrategy.drop
            ),
            "comment": Column(kind=ColumnKind.text),
            "sex": Column(kind=ColumnKind.categorical, categories=["Female", "Male"]),
        },
    )


def sampled(n: int = 50) -> pd.DataFrame:
    rng = random.Random(7)
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "age": [rng.randint(18, 90) for _ in range(n)],
            "sex": [rng.choice(["Female", "Male"]) for _ in range(n)],
        }
    )


def test_fill_pii_columns_order_and_drop() -> None:
    schema = pii_schema()
    synth = sampled()
    out = fill_pii(synth, schema, seed=0, key=KEY)
    assert list(out.columns) == [c for c in schema.columns if c != "secret"]
    assert len(out) == len(synth)
    pd.testing.assert_frame_equal(out[["id", "age", "sex"]], synth[["id", "age", "sex"]])
    filled = [c for c in out.columns if c not in ("id", "age", "sex")]
    for column in filled:
        assert out[column].dtype == object, column
        assert out[column].notna().all(), column
        assert out[column].map(lambda v: isinstance(v, str) and v != "").all(), column
    assert synth.columns.tolist() == ["id", "age", "sex"]  # input untouched


def test_fill_pii_same_seed_same_values_other_seed_other_values() -> None:
    schema = pii_schema()
    first = fill_pii(sampled(), schema, seed=3, key=KEY)
    again = fill_pii(sampled(), schema, seed=3, key=KEY)
    other = fill_pii(sampled(), schema, seed=4, key=KEY)
    pd.testing.assert_frame_equal(first, again)
    for column in ("full_name", "email", "phone", "address", "ssn", "login", "device", "comment"):
        assert (first[column] != other[column]).mean() > 0.9, column
    # hash tokens depend on the key, not on the seed
    pd.testing.assert_series_equal(first["token"], other["token"])


def test_fill_pii_fake_values_have_their_type() -> None:
    out = fill_pii(sampled(100), pii_schema(), seed=11, key=KEY)
    assert detect_pii("col", out["full_name"]) == PiiType.name
    assert detect_pii("col", out["email"]) == PiiType.email
    assert detect_pii("col", out["phone"]) == PiiType.phone
    assert detect_pii("col", out["address"]) == PiiType.address
    assert detect_pii("col", out["ssn"]) == PiiType.national_id
    assert out["login"].str.fullmatch(r"[A-Z]{2}\d{6}").all()
    assert out["login"].is_unique
    assert out["device"].is_unique
    assert out["comment"].str.split().str.len().min() >= 2


def test_fill_pii_hash_tokens() -> None:
    out = fill_pii(sampled(), pii_schema(), seed=0, key=KEY)
    expected = [
        hmac.new(KEY, f"token:{i}".encode(), hashlib.sha256).hexdigest()[:16]
        for i in range(len(out))
    ]
    assert out["token"].tolist() == expected
    assert out["token"].is_unique
    assert out["token"].str.fullmatch(r"[0-9a-f]{16}").all()
    other_key = fill_pii(sampled(), pii_schema(), seed=0, key=b"another run")
    assert not set(out["token"]) & set(other_key["token"])


def test_fill_pii_contains_no_original_value(fake: Faker) -> None:
    schema = pii_schema()
    n = 200
    real = {
        "full_name": [fake.name() for _ in range(n)],
        "email": [fake.free_email() for _ in range(n)],
        "phone": [fake.phone_number() for _ in range(n)],
        "address": [fake.address().replace("\n", ", ") for _ in range(n)],
        "ssn": [fake.ssn() for _ in range(n)],
        "token": [fake.company_email() for _ in range(n)],
        "secret": [fake.phone_number() for _ in range(n)],
    }
    out = fill_pii(sampled(n), schema, seed=99, key=KEY)
    every_output_value = set(out.astype(str).to_numpy().ravel())
    for column, values in real.items():
        assert not set(values) & every_output_value, column


def test_fill_pii_leaves_faker_global_state_alone() -> None:
    before = faker.generator.random.getstate()
    fill_pii(sampled(), pii_schema(), seed=5, key=KEY)
    assert faker.generator.random.getstate() == before


def test_fill_pii_keeps_the_index() -> None:
    synth = sampled(10).set_index(pd.Index(range(100, 110)))
    out = fill_pii(synth, pii_schema(), seed=0, key=KEY)
    assert out.index.tolist() == list(range(100, 110))
    assert out["email"].notna().all()


def test_fill_pii_rejects_bad_input() -> None:
    with pytest.raises(ParameterError, match="key"):
        fill_pii(sampled(), pii_schema(), seed=0, key=b"")
    with pytest.raises(DataError, match="'age'"):
        fill_pii(sampled().drop(columns="age"), pii_schema(), seed=0, key=KEY)


def test_fill_pii_with_no_rows() -> None:
    out = fill_pii(sampled(0), pii_schema(), seed=0, key=KEY)
    assert len(out) == 0
    assert "email" in out.columns and "secret" not in out.columns


# ---- pii_report ---------------------------------------------------------------------------


def test_pii_report() -> None:
    rows = pii_report(pii_schema())
    by_column = {row["column"]: row for row in rows}
    assert list(by_column) == [
        "full_name", "given", "family", "email", "phone", "address", "ssn", "login",
        "device", "token", "secret", "comment",
    ]  # fmt: skip
    assert all(set(row) == {"column", "pii_type", "strategy", "note"} for row in rows)
    assert by_column["email"]["pii_type"] == "email"
    assert by_column["email"]["strategy"] == "fake"
    assert by_column["token"]["strategy"] == "hash"
    assert by_column["secret"]["strategy"] == "drop"
    assert "removed" in by_column["secret"]["note"]
    assert by_column["comment"]["pii_type"] is None
    assert all(row["note"] for row in rows)
