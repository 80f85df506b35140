"""The field type registry: coercion, display, and the fast paths agreeing with the libraries."""

from datetime import UTC, date, datetime
from decimal import Decimal

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from metacrm.meta.fields import FIELD_TYPES, CoerceContext, CoercionError, _email, _phone, _phone_fast

CTX = CoerceContext()


def coerce(type_name, value, **schema):
    ftype = FIELD_TYPES[type_name]
    return ftype.coerce(value, ftype.json_schema(schema), CTX)


def test_every_type_has_every_fact():
    for name, ftype in FIELD_TYPES.items():
        assert ftype.name == name
        assert ftype.operators and ftype.widget
        assert ftype.column(ftype.json_schema({})) is not None
        assert ftype.marshmallow(ftype.json_schema({"enum": ["a"], "items": {"enum": ["a"]}})) is not None


@pytest.mark.parametrize(("value", "expected"), [("19.99", Decimal("19.99")), (0.07, Decimal("0.07")),
                                                 (12, Decimal("12.00")), ("-3.5", Decimal("-3.50"))])
def test_decimals_are_exact(value, expected):
    assert coerce("decimal", value) == expected


@pytest.mark.parametrize(("value", "code"), [("1.234", "too_many_decimals"), ("1e400", "out_of_range"),
                                             ("NaN", "invalid_decimal"), ("12345678901234567", "out_of_range")])
def test_bad_decimals_are_refused_with_a_code(value, code):
    with pytest.raises(CoercionError) as info:
        coerce("decimal", value)
    assert info.value.code == code


def test_decimal_bounds_apply_to_strings_too():
    with pytest.raises(CoercionError) as info:
        coerce("decimal", "-1", minimum=0)
    assert info.value.code == "minimum"


def test_dates_and_datetimes():
    assert coerce("date", "2026-02-28") == date(2026, 2, 28)
    assert coerce("datetime", "2026-01-01T08:00:00+08:00") == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert coerce("datetime", "2026-01-01T00:00:00Z").tzinfo is not None
    with pytest.raises(CoercionError):
        coerce("date", "2026-02-30")
    with pytest.raises(CoercionError):
        coerce("datetime", "2026-01-01T08:00:00")  # no time zone: ambiguous, refused


def test_phone_normalises_to_e164_and_refuses_nonsense():
    assert coerce("phone", "138 1234 5678") == "+8613812345678"
    assert coerce("phone", "+1 415-555-0132") == "+14155550132"
    assert coerce("phone", "(415) 555-0132", **{"x-region": "US"}) == "+14155550132"
    for bad in ("12345", "not a phone", "+86 999"):
        with pytest.raises(CoercionError) as info:
            coerce("phone", bad)
        assert info.value.code == "invalid_phone"


def test_email_normalises_domain_and_refuses_invalid():
    assert coerce("email", " Wang.Wei@Example.COM ") == "wang.wei@example.com"
    for bad in ("no-at-sign", "a@b", "a@localhost", "a@foo.test", "a..b@example.com"):
        with pytest.raises(CoercionError) as info:
            coerce("email", bad)
        assert info.value.code == "invalid_email"


def test_url_only_http():
    assert coerce("url", "https://example.com/a") == "https://example.com/a"
    for bad in ("javascript:alert(1)", "ftp://x.com", "example.com"):
        with pytest.raises(CoercionError):
            coerce("url", bad)


def test_nul_characters_are_refused():
    with pytest.raises(CoercionError) as info:
        coerce("text", "a\x00b")
    assert info.value.code == "invalid_character"


def _library_phone(value, region):
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["CN", "US", "GB", "SG", "DE", "JP", "IT"]),
       st.text(alphabet="0123456789", min_size=5, max_size=13))
def test_phone_fast_path_agrees_with_phonenumbers(region, digits):
    fast = _phone_fast(digits, region)
    if fast is not None:
        assert fast == _library_phone(digits, region)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["13", "15", "17", "18", "19", "14", "16", "10", "11", "12"]),
       st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_phone_result_equals_library_for_chinese_mobiles(prefix, rest):
    digits = prefix + rest
    expected = _library_phone(digits, "CN")
    if expected is None:
        with pytest.raises(CoercionError):
            _phone(digits, {}, CTX)
    else:
        assert _phone(digits, {}, CTX) == expected


_local = st.text(alphabet="abcXYZ019._+-'", min_size=1, max_size=12)
_domain = st.lists(st.text(alphabet="abcXY09-", min_size=1, max_size=8), min_size=1, max_size=3)
_tld = st.sampled_from(["com", "CN", "org", "test", "local", "c1", "io", "x"])


@settings(max_examples=400, deadline=None)
@given(_local, _domain, _tld)
def test_email_fast_path_agrees_with_email_validator(local, labels, tld):
    address = f"{local}@{'.'.join(labels)}.{tld}"
    try:
        expected = validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        expected = None
    try:
        got = _email(address, {}, CTX)
    except CoercionError:
        got = None
    assert got == expected
