"""PII detection, replacement and reporting.

PII and free-text columns are never shown to a synthesizer. After sampling, :func:`fill_pii`
adds them back with values that come from nowhere real: Faker values, per-run tokens, or
nothing at all.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import string
from typing import TYPE_CHECKING, Any

import pandas as pd

from synthdata.errors import DataError, ParameterError
from synthdata.schema import ColumnKind, PiiStrategy, PiiType, Schema

if TYPE_CHECKING:
    from faker import Faker

__all__ = ["detect_pii", "fill_pii", "pii_report"]

logger = logging.getLogger(__name__)

SAMPLE_SIZE = 500
MIN_MATCH_SHARE = 0.60
# A person-name pattern also fits "New York" or "Home Garden"; only a column whose values
# are mostly distinct looks like people.
MIN_NAME_DISTINCT_SHARE = 0.5
FREE_TEXT_ID_PATTERN = "??######"

# ---- detection by column name -------------------------------------------------------------

# Tokens that turn a PII-sounding name into a statistic or flag about it:
# "has_email", "email_verified", "phone_type", "num_addresses", "name_length".
_NEGATING_TOKENS = frozenset(
    (
        "count counts num n has is flag type kind status verified valid validated opt optin"
        " optout opted consent domain provider length len format changed missing bounced"
        " bounce confirmed share rate pct percent score"
    ).split()
)
_PERSON_QUALIFIERS = frozenset(
    (
        "customer client person contact patient employee member owner holder account"
        " cardholder passenger guest student applicant driver full display real legal"
        " recipient sender buyer seller spouse parent father mother emergency beneficiary"
        " insured policyholder subscriber author agent doctor physician teacher manager"
        " supervisor citizen voter tenant resident donor user candidate worker staff caller"
        " visitor traveler traveller"
    ).split()
)
# Values like "New York" or "Software Engineer" look like names; these column names say
# the column holds something other than people.
_NON_PERSON_TOKENS = frozenset(
    (
        "job title occupation position role product item company employer organisation"
        " organization org brand city town country state region county province place location"
        " department dept team category school university college hospital store shop hotel"
        " restaurant model make vehicle game movie film book song genre language species breed"
        " color colour description desc comment comments note notes label class group segment"
        " industry sector file event project course subject tag"
    ).split()
)
_ID_TOKENS = frozenset({"id", "identifier", "number", "no", "nr", "num", "code", "ref"})

_BOUNDED = r"(?:^|_){}(?:_|$)"
_NAME_RULES: tuple[tuple[str, PiiType], ...] = (
    (r"e_?mail|email_?address|mail", PiiType.email),
    (r"ip|ip_?address|ip_?addr|mac_?address", PiiType.other),
    (
        r"phone|telephone|tel|mobile|cell|cellphone|cell_?phone|mobile_?phone|phone_?number"
        r"|fax|msisdn|phonenumber",
        PiiType.phone,
    ),
    (
        r"ssn|social_?security(?:_number)?|national_?id|national_insurance(?:_number)?|nin|nino"
        r"|passport(?:_no|_number|_id)?|tax_?id|taxpayer_?id|tax_?number|id_?card_?number",
        PiiType.national_id,
    ),
    (r"first_?name|given_?name|forename|fname|middle_?name", PiiType.first_name),
    (r"last_?name|surname|family_?name|lname|maiden_?name", PiiType.last_name),
    (r"user_?name|login|handle|screen_?name|nickname|nick_?name", PiiType.free_text_id),
    (
        r"full_?name|fullname|customername|clientname|personname|contactname|patientname",
        PiiType.name,
    ),
    (
        r"iban|bank_?account(?:_number)?|account_?number|credit_?card(?:_number)?"
        r"|card_?number|licen[cs]e_?(?:number|no|plate)|plate_?number|number_?plate",
        PiiType.other,
    ),
    (
        r"address|addr|street|street_?address|address_?line_?\d*|home_?address"
        r"|postal_?address|mailing_?address",
        PiiType.address,
    ),
)
_COMPILED_NAME_RULES = tuple((re.compile(_BOUNDED.format(f"(?:{p})")), t) for p, t in _NAME_RULES)


def _tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name))
    return [t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t]


def _type_from_name(name: str) -> tuple[PiiType | None, bool]:
    """The PII type a column name suggests, and whether it is a person-linked id name.

    A person-linked id ("customer_id") is PII only when its values also look like free-text
    ids; numeric row ids stay ordinary id columns.
    """
    tokens = _tokens(name)
    if not tokens or _NEGATING_TOKENS.intersection(tokens):
        return None, False
    norm = "_".join(tokens)
    for pattern, pii_type in _COMPILED_NAME_RULES:
        if pattern.search(norm):
            return pii_type, False
    if "name" in tokens:
        others = [t for t in tokens if t != "name"]
        if all(t in _PERSON_QUALIFIERS for t in others):
            return PiiType.name, False
        return None, False
    joined = "".join(tokens)
    person_id = any(
        joined.startswith(q) and joined[len(q) :] in {"id", "number", "no", "ref", "code"}
        for q in _PERSON_QUALIFIERS
    ) or (_PERSON_QUALIFIERS.intersection(tokens) and _ID_TOKENS.intersection(tokens))
    return None, bool(person_id)


# ---- detection by values ------------------------------------------------------------------

_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_SSN = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_IPV4 = re.compile(r"^(?:\d{1,3}\.){3}\d{1,3}$")
_PHONE_EXT = re.compile(r"\s*(?:x|ext\.?|#)\s*\d{1,6}$", re.IGNORECASE)
_PHONE = re.compile(
    r"^(?:\+|00)?(?:\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]?\d{2,4}){1,4}$"
)
_DECIMAL = re.compile(r"^[+-]?\d*\.\d+$|^[+-]?\d+$")
_DATE_LIKE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$")
_STREET_SUFFIXES = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|place|pl|way"
    "|terrace|ter|circle|cir|parkway|pkwy|highway|hwy|square|sq|trail|trl|crescent|close"
)
# "123 Main Street", "4068 Jacob Stream": a house number and capitalised words
_ADDRESS = re.compile(r"^\d{1,6}[A-Za-z]?,?\s+(?:[A-Z][A-Za-z'.-]*\s+){1,4}[A-Z][A-Za-z'.]*")
_ADDRESS_SUFFIX = re.compile(
    rf"^\d{{1,6}}[A-Za-z]?,?\s+(?:[A-Za-z][A-Za-z'.-]*\s+){{1,4}}(?:{_STREET_SUFFIXES})\b",
    re.IGNORECASE,
)
_PERSON_NAME = re.compile(
    r"^(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+)?"
    r"[A-Z][a-zA-Z'-]+(?:\s+[A-Z]\.)?(?:\s+[A-Z][a-zA-Z'-]+){1,2}"
    r"(?:,?\s+(?:Jr\.?|Sr\.?|II|III|IV|V|MD|DDS|PhD|DVM|Esq\.?))?$"
)


def _is_phone(value: str) -> bool:
    if _DECIMAL.match(value) or _DATE_LIKE.match(value):
        return False
    core = _PHONE_EXT.sub("", value)
    if not _PHONE.match(core):
        return False
    digits = sum(ch.isdigit() for ch in core)
    # a bare run of digits is as likely an amount or a code as a phone number
    formatted = core != re.sub(r"\D", "", core)
    return formatted and 7 <= digits <= 15


def _is_address(value: str) -> bool:
    return len(value) <= 200 and bool(_ADDRESS.match(value) or _ADDRESS_SUFFIX.match(value))


def _is_free_text_id(value: str) -> bool:
    return (
        not any(ch.isspace() for ch in value)
        and any(ch.isdigit() for ch in value)
        and any(ch.isalpha() for ch in value)
    )


def _share(sample: pd.Series, predicate: Any) -> float:
    if sample.empty:
        return 0.0
    return float(sample.map(predicate).mean())


def _text_sample(values: pd.Series) -> tuple[pd.Series, int, int]:
    """A deterministic sample of the non-empty values as text, plus non-null and distinct counts."""
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""]
    n_distinct = int(text.nunique())
    n = len(text)
    if n > SAMPLE_SIZE:
        text = text.sample(SAMPLE_SIZE, random_state=0)
    return text.reset_index(drop=True), n, n_distinct


def _type_from_values(name: str, sample: pd.Series, n: int, n_distinct: int) -> PiiType | None:
    if sample.empty:
        return None
    if _share(sample, lambda v: bool(_EMAIL.match(v))) >= MIN_MATCH_SHARE:
        return PiiType.email
    if _share(sample, lambda v: bool(_SSN.match(v))) >= MIN_MATCH_SHARE:
        return PiiType.national_id
    if _share(sample, lambda v: bool(_IPV4.match(v))) >= MIN_MATCH_SHARE:
        return PiiType.other
    if _share(sample, _is_phone) >= MIN_MATCH_SHARE:
        return PiiType.phone
    if _share(sample, _is_address) >= MIN_MATCH_SHARE:
        return PiiType.address
    person_like = not _NON_PERSON_TOKENS.intersection(_tokens(name))
    if (
        person_like
        and n_distinct >= MIN_NAME_DISTINCT_SHARE * n
        and n_distinct >= 3
        and _share(sample, lambda v: bool(_PERSON_NAME.match(v))) >= MIN_MATCH_SHARE
    ):
        return PiiType.name
    return None


_BOOLEAN_WORDS = frozenset({"true", "false", "yes", "no", "t", "f", "y", "n", "0", "1"})


def _looks_categorical(sample: pd.Series, n: int, n_distinct: int) -> bool:
    """Whether the values look like a flag or a small set of categories, not personal data."""
    if sample.empty:
        return False
    if set(sample.str.lower().unique()) <= _BOOLEAN_WORDS:
        return True
    return n_distinct <= 10 and n_distinct <= 0.5 * n


def _systematic_key(sample: pd.Series) -> bool:
    """Whether the values share their letters ("C000123", "CUST-0042"): a key, not free text."""
    letters = sample.str.replace(r"[^A-Za-z]", "", regex=True).str.upper()
    return float(letters.value_counts(normalize=True).iloc[0]) >= 0.5


_NEVER_NUMERIC = frozenset(
    {
        PiiType.email,
        PiiType.name,
        PiiType.first_name,
        PiiType.last_name,
        PiiType.address,
        PiiType.free_text_id,
    }
)


def _values_contradict(pii_type: PiiType, sample: pd.Series, n: int, n_distinct: int) -> bool:
    """Whether the values rule out what the name suggests ("handle_time", "last_login")."""
    if sample.empty:
        return False
    if _looks_categorical(sample, n, n_distinct):
        return True
    if _share(sample, lambda v: bool(_DATE_LIKE.match(v))) >= MIN_MATCH_SHARE:
        return True
    return pii_type in _NEVER_NUMERIC and _share(sample, lambda v: bool(_DECIMAL.match(v))) >= 0.95


def detect_pii(name: str, values: pd.Series) -> PiiType | None:
    """Guess whether a column holds personal data, from its name and its values.

    The name decides when it is specific ("email", "phone", "surname", "ssn", ...) unless the
    values look like a flag or a handful of categories. The values decide on their own when at
    least 60% of a sample match a pattern: emails, US SSNs, IPv4 addresses, phone numbers,
    street addresses, and person names ("Firstname Lastname") in a column whose values are
    mostly distinct.
    Person-linked ids ("user_id", "customer_id") count only when their values are unique
    strings mixing letters and digits in no fixed pattern ("jsmith84", "QX204719"; not
    "C000123", which is a systematic key).

    Args:
        name: The column name.
        values: The column's values, as text or typed.

    Returns:
        The most specific PII type found, or ``None``.
    """
    sample, n, n_distinct = _text_sample(values)
    by_name, person_id = _type_from_name(name)
    by_values = _type_from_values(name, sample, n, n_distinct)

    if by_name is not None and _values_contradict(by_name, sample, n, n_distinct):
        logger.debug("column %r: name suggests %s but the values do not", name, by_name.value)
        by_name = None
    if (
        by_name is None
        and person_id
        and n > 0
        and n_distinct >= 0.95 * n
        and _share(sample, _is_free_text_id) >= MIN_MATCH_SHARE
        and not _systematic_key(sample)
    ):
        by_name = PiiType.free_text_id

    if by_values is None:
        found = by_name
    elif by_name is None:
        found = by_values
    elif by_name in (PiiType.first_name, PiiType.last_name) and by_values == PiiType.name:
        found = by_name
    else:
        # a matching majority of values is firmer evidence than the name
        found = by_values
    if found is not None:
        logger.debug(
            "column %r: PII %s (name: %s, values: %s)",
            name,
            found.value,
            by_name.value if by_name else None,
            by_values.value if by_values else None,
        )
    return found


# ---- filling ------------------------------------------------------------------------------


def _column_seed(seed: int, column: str) -> int:
    # Each column gets its own stream, so adding or reordering columns leaves the others' values
    # unchanged.
    digest = hashlib.sha256(f"{seed}:{column}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _fake_values(fake: Faker, pii_type: PiiType, n: int) -> list[str]:
    if pii_type == PiiType.name:
        return [fake.name() for _ in range(n)]
    if pii_type == PiiType.first_name:
        return [fake.first_name() for _ in range(n)]
    if pii_type == PiiType.last_name:
        return [fake.last_name() for _ in range(n)]
    if pii_type == PiiType.email:
        # example.com/org/net domains: a fake address can never reach a real inbox
        return [fake.safe_email() for _ in range(n)]
    if pii_type == PiiType.phone:
        return [fake.phone_number() for _ in range(n)]
    if pii_type == PiiType.address:
        return [fake.address().replace("\n", ", ") for _ in range(n)]
    if pii_type == PiiType.national_id:
        return [fake.unique.ssn() for _ in range(n)]
    if pii_type == PiiType.free_text_id:
        return [
            fake.unique.bothify(FREE_TEXT_ID_PATTERN, letters=string.ascii_uppercase)
            for _ in range(n)
        ]
    return [fake.unique.hexify("^" * 16) for _ in range(n)]


def _hash_tokens(key: bytes, column: str, n: int, first_row: int = 0) -> list[str]:
    return [
        hmac.new(key, f"{column}:{i}".encode(), hashlib.sha256).hexdigest()[:16]
        for i in range(first_row, first_row + n)
    ]


def fill_pii(synth: pd.DataFrame, schema: Schema, *, seed: int, key: bytes,
             first_row: int = 0) -> pd.DataFrame:
    """Add the PII and free-text columns to sampled rows, in schema column order.

    Per ``pii_strategy``: ``fake`` fills Faker values of the column's ``pii_type`` from a local,
    seeded Faker (same seed, same values); ``hash`` fills opaque tokens
    ``HMAC-SHA256(key, "<column>:<row number>")[:16]``; ``drop`` leaves the column out.
    ``text`` columns get Faker sentences. Filled columns hold strings and no missing values.

    The ``hash`` tokens are not hashes of real values: a synthetic row corresponds to no real
    person, so there is nothing real to hash and nothing real can leak. The tokens are only
    stable labels within one run (``key`` is random per run), unique per row.

    Args:
        synth: Sampled rows holding the modelled columns (``schema.modelled_columns``).
        schema: The table schema.
        seed: Seed of the Faker values.
        key: Per-run secret for the ``hash`` tokens.
        first_row: Row number of ``synth``'s first row in the whole output (a part of a
            sample written in parts), so ``hash`` tokens stay unique across the parts.

    Returns:
        A new frame with every schema column except dropped ones, in schema order.

    Raises:
        DataError: ``synth`` lacks a modelled column.
        ParameterError: ``key`` is not non-empty bytes.
    """
    if not isinstance(key, bytes | bytearray) or len(key) == 0:
        raise ParameterError(
            f"The 'key' parameter of fill_pii must be non-empty bytes. Got {type(key).__name__} "
            f"of length {len(key) if hasattr(key, '__len__') else 'n/a'} instead."
        )
    missing = [c for c in schema.modelled_columns if c not in synth.columns]
    if missing:
        raise DataError(
            [
                f"column '{c}': modelled in the schema but missing from the sampled rows; "
                "sample with the synthesizer fitted on this schema"
                for c in missing
            ],
            source="sampled rows",
        )

    from faker import Faker  # only needed when there is something to fill

    fake = Faker("en_US")
    n = len(synth)
    out: dict[str, Any] = {}
    for column, spec in schema.columns.items():
        if spec.kind == ColumnKind.pii:
            if spec.pii_strategy == PiiStrategy.drop:
                continue
            if spec.pii_strategy == PiiStrategy.hash:
                values = _hash_tokens(bytes(key), column, n, first_row)
            else:
                fake.seed_instance(_column_seed(seed, column))
                fake.unique.clear()
                values = _fake_values(fake, spec.pii_type or PiiType.other, n)
            out[column] = pd.Series(values, index=synth.index, dtype=object)
        elif spec.kind == ColumnKind.text:
            fake.seed_instance(_column_seed(seed, column))
            out[column] = pd.Series(
                [fake.sentence() for _ in range(n)], index=synth.index, dtype=object
            )
        else:
            out[column] = synth[column]
    logger.info(
        "filled %d PII/text column(s) for %d rows",
        len(schema.columns_of(ColumnKind.pii, ColumnKind.text)),
        n,
    )
    return pd.DataFrame(out, index=synth.index)


# ---- reporting ----------------------------------------------------------------------------

_NOTES = {
    PiiStrategy.fake: "not modelled; replaced by Faker {what} unrelated to the real values "
    "and to the other columns",
    PiiStrategy.hash: "not modelled; replaced by per-run HMAC tokens of column and row number "
    "(not derived from any real value)",
    PiiStrategy.drop: "not modelled; removed from the output",
}


def pii_report(schema: Schema) -> list[dict[str, Any]]:
    """One row per PII or free-text column: ``column, pii_type, strategy, note``."""
    rows: list[dict[str, Any]] = []
    for column, spec in schema.columns.items():
        if spec.kind == ColumnKind.pii:
            pii_type = spec.pii_type or PiiType.other
            what = (
                "pseudonymous tokens"
                if pii_type == PiiType.other
                else f"{pii_type.value.replace('_', ' ')} values"
            )
            rows.append(
                {
                    "column": column,
                    "pii_type": pii_type.value,
                    "strategy": spec.pii_strategy.value,
                    "note": _NOTES[spec.pii_strategy].format(what=what),
                }
            )
        elif spec.kind == ColumnKind.text:
            rows.append(
                {
                    "column": column,
                    "pii_type": None,
                    "strategy": PiiStrategy.fake.value,
                    "note": "free text, not modelled; replaced by Faker sentences unrelated to "
                    "the real text",
                }
            )
    return rows
