"""The built-in demo table: fictional subscription-service customers with a known ground truth.

:func:`make_demo_table` draws the table from ``np.random.default_rng(seed)`` (every number) and a
local ``Faker("en_US")`` seeded with the same seed (names only), so a seed gives the same table on
every run with the same numpy and Faker versions. Nothing global is seeded. :func:`demo_schema`
returns its schema, built from :data:`DEMO_SCHEMA_YAML` (a copy lives in ``schemas/demo.yaml``).

Generating process (``REFERENCE_DATE`` = 2025-01-01, ``logistic(x) = 1 / (1 + exp(-x))``)::

    customer_id   "C" + 6 digits, distinct numbers drawn from 1..999999 without replacement
    sex           F or M, P(M) = 0.5
    full_name     Faker first name of the row's sex + " " + Faker last name
    email         first.last[NN]@example.{com,net,org}, lower-cased ASCII letters of the name;
                  NN (10..99) present with probability 0.5; the three domains equally likely
    region        North 0.25, South 0.20, East 0.20, West 0.20, Central 0.15 (no effect)
    signup_date   2018-01-01 + floor(2557 * sqrt(U)) days, U ~ Uniform(0, 1)   (more recent
                  signups are likelier; last possible day 2024-12-31), text 'YYYY-MM-DD'
    tenure_months whole months from signup_date to REFERENCE_DATE (0..84)
    age           min(90, 18 + round(Gamma(shape=3, scale=8)))
    income        round(exp(N(10.55 + 0.015 * (min(age, 60) - 40), 0.5)), -2), then set missing
                  completely at random with probability 0.08
    plan          L = 0.8 * (ln(income) - 10.55) / 0.5 + Logistic(0, 1) (income before the
                  masking): basic if L < 0, standard if L < 1.6, else premium
    monthly_spend {basic: 9.99, standard: 15.99, premium: 22.99}[plan]
                  + Gamma(shape=2, scale={basic: 2, standard: 3, premium: 4}[plan]), 2 decimals
    support_calls Poisson(1.2)
    autopay       Bernoulli(0.75 if tenure_months >= 24 else 0.55)
    churned       Bernoulli(logistic(-2.15 - 0.04 * tenure_months + 0.45 * support_calls
                                     - 0.9 * autopay + ln(1.8) * [sex == M]))

So churn falls with tenure and autopay, rises with support calls, and men have 1.8 times the churn
odds of women at equal tenure, support calls and autopay. Sex is drawn independently of every
other column, so the sex gap in churn is a direct dependency of the target on the sensitive
attribute, not a proxy effect. Income depends on age, plan on income, spend on plan, autopay on
tenure. Region affects nothing; it is not declared sensitive because at 6,000 rows its churn
rates still differ by chance (0.060 to 0.086 by region in the default table).

Measured rates (expected = ``make_demo_table(999_999, seed=0)``; default = ``make_demo_table()``)::

                      expected   default (6,000 rows)
    churned overall    0.0739     0.0748  (449 rows)
    churned | sex=F    0.0555     0.0600  (180 of 3,000)
    churned | sex=M    0.0923     0.0897  (269 of 3,000)
    odds ratio M vs F  1.73       1.54    (unadjusted; the adjusted, generating one is 1.8)
    income missing     0.0801     0.0822
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from synthdata.errors import ParameterError
from synthdata.schema import Schema, schema_from_dict

__all__ = ["DEMO_SCHEMA_YAML", "REFERENCE_DATE", "demo_schema", "make_demo_table"]

logger = logging.getLogger(__name__)

REFERENCE_DATE = "2025-01-01"
_FIRST_SIGNUP = "2018-01-01"
_REGIONS = ("North", "South", "East", "West", "Central")
_REGION_P = (0.25, 0.20, 0.20, 0.20, 0.15)
_PLANS = ("basic", "standard", "premium")
_PLAN_PRICE = np.array([9.99, 15.99, 22.99])
_PLAN_EXTRA_SCALE = np.array([2.0, 3.0, 4.0])
_EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
_LOG_INCOME_MEAN = 10.55
_LOG_INCOME_SD = 0.5
_INCOME_MISSING = 0.08
_CHURN_INTERCEPT = -2.15
_CHURN_PER_TENURE_MONTH = -0.04
_CHURN_PER_SUPPORT_CALL = 0.45
_CHURN_AUTOPAY = -0.9
_CHURN_MALE_ODDS_RATIO = 1.8

DEMO_SCHEMA_YAML = """\
# Schema of the built-in demo table (synthdata.demo.make_demo_table).
# Kept identical to synthdata.demo.DEMO_SCHEMA_YAML; tests/test_demo.py checks it.
name: demo
description: >-
  Fictional subscription-service customers. Churn depends on tenure, support calls, autopay
  and sex (men have 1.8x the churn odds of women); region has no effect.
target: churned
sensitive: [sex]
quasi_identifiers: [age, sex, region]
primary_key: customer_id
columns:
  customer_id: {kind: id, nullable: false, description: "C + 6 digits, unique"}
  full_name: {kind: pii, pii_type: name, nullable: false}
  email: {kind: pii, pii_type: email, nullable: false}
  signup_date:
    kind: datetime
    datetime_format: "%Y-%m-%d"
    min: "2018-01-01"
    max: "2024-12-31"
    nullable: false
  age: {kind: integer, min: 18, max: 90, nullable: false}
  sex: {kind: categorical, categories: [F, M], nullable: false}
  region: {kind: categorical, categories: [North, South, East, West, Central], nullable: false}
  plan: {kind: ordinal, categories: [basic, standard, premium], nullable: false}
  monthly_spend: {kind: numerical, min: 0, max: 200, nullable: false, description: USD}
  tenure_months:
    kind: integer
    min: 0
    max: 84
    nullable: false
    description: Whole months from signup_date to 2025-01-01
  income: {kind: numerical, min: 0, max: 1000000, nullable: true, description: USD per year}
  support_calls: {kind: integer, min: 0, max: 30, nullable: false}
  autopay: {kind: boolean, nullable: false}
  churned: {kind: boolean, nullable: false}
split:
  holdout: 0.2
"""


def demo_schema() -> Schema:
    """The schema of :func:`make_demo_table`'s table, built without reading files."""
    import yaml

    return schema_from_dict(yaml.safe_load(DEMO_SCHEMA_YAML), source="demo schema")


def make_demo_table(n_rows: int = 6000, *, seed: int = 0) -> pd.DataFrame:
    """Draw the demo customer table (process and expected rates in the module docstring).

    Args:
        n_rows: Number of customers, 1 to 999,999.
        seed: Seed of the numpy generator and of the local Faker instance.

    Returns:
        One row per customer; ``signup_date`` as 'YYYY-MM-DD' text, ``income`` with missing
        values as NaN, ``autopay`` and ``churned`` as bool.

    Raises:
        ParameterError: ``n_rows`` is out of range.
    """
    if (
        isinstance(n_rows, bool)
        or not isinstance(n_rows, int | np.integer)
        or not (1 <= n_rows <= 999_999)
    ):
        raise ParameterError(
            "The 'n_rows' parameter of make_demo_table must be an int in [1, 999999]. "
            f"Got {n_rows!r} instead."
        )
    n = int(n_rows)
    rng = np.random.default_rng(seed)

    ids = np.sort(rng.choice(np.arange(1, 1_000_000), size=n, replace=False))
    male = rng.random(n) < 0.5
    region = rng.choice(np.array(_REGIONS), size=n, p=_REGION_P)

    reference = np.datetime64(REFERENCE_DATE, "D")
    first = np.datetime64(_FIRST_SIGNUP, "D")
    span = int((reference - first).astype(int))
    signup = first + np.floor(span * np.sqrt(rng.random(n))).astype("int64")
    signup_month = signup.astype("datetime64[M]")
    day_of_month = (signup - signup_month.astype("datetime64[D]")).astype(int) + 1
    tenure = (reference.astype("datetime64[M]") - signup_month).astype(int) - (day_of_month > 1)

    age = np.minimum(90, 18 + np.round(rng.gamma(3.0, 8.0, size=n))).astype("int64")
    log_income = rng.normal(_LOG_INCOME_MEAN + 0.015 * (np.minimum(age, 60) - 40), _LOG_INCOME_SD)
    income = np.round(np.exp(log_income), -2)
    income[rng.random(n) < _INCOME_MISSING] = np.nan

    latent = 0.8 * (log_income - _LOG_INCOME_MEAN) / _LOG_INCOME_SD + rng.logistic(size=n)
    plan_idx = np.digitize(latent, [0.0, 1.6])
    spend = _PLAN_PRICE[plan_idx] + rng.gamma(2.0, _PLAN_EXTRA_SCALE[plan_idx])

    support_calls = rng.poisson(1.2, size=n)
    autopay = rng.random(n) < np.where(tenure >= 24, 0.75, 0.55)
    logit = (
        _CHURN_INTERCEPT
        + _CHURN_PER_TENURE_MONTH * tenure
        + _CHURN_PER_SUPPORT_CALL * support_calls
        + _CHURN_AUTOPAY * autopay
        + np.log(_CHURN_MALE_ODDS_RATIO) * male
    )
    churned = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))

    first_names, last_names = _names(male, seed)
    suffix = np.where(rng.random(n) < 0.5, "", rng.integers(10, 100, size=n).astype(str))
    domain = rng.choice(np.array(_EMAIL_DOMAINS), size=n)
    local = (
        _ascii_lower(first_names) + "." + _ascii_lower(last_names) + pd.Series(suffix, dtype=str)
    )

    table = pd.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in ids],
            "full_name": first_names + " " + last_names,
            "email": local + "@" + pd.Series(domain, dtype=str),
            "signup_date": np.datetime_as_string(signup, unit="D"),
            "age": age,
            "sex": np.where(male, "M", "F"),
            "region": region,
            "plan": np.array(_PLANS)[plan_idx],
            "monthly_spend": np.round(spend, 2),
            "tenure_months": tenure.astype("int64"),
            "income": income,
            "support_calls": support_calls.astype("int64"),
            "autopay": autopay,
            "churned": churned,
        }
    )
    logger.debug("demo table: %d rows, seed %d, churn rate %.4f", n, seed, churned.mean())
    return table


def _names(male: np.ndarray, seed: int) -> tuple[pd.Series, pd.Series]:
    """First names matching each row's sex, and last names, from a local seeded Faker."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    n_male = int(male.sum())
    first = np.empty(len(male), dtype=object)
    first[male] = [fake.first_name_male() for _ in range(n_male)]
    first[~male] = [fake.first_name_female() for _ in range(len(male) - n_male)]
    last = [fake.last_name() for _ in range(len(male))]
    return pd.Series(first, dtype=str), pd.Series(last, dtype=str)


def _ascii_lower(names: pd.Series) -> pd.Series:
    return names.str.lower().str.replace(r"[^a-z]", "", regex=True)
