"""Data-factory normalizers: what turns a spreadsheet cell into a record service input value.

The field type registry (meta/fields.py) already coerces phones to E.164 and checks emails; this
module does the cleaning a person's typing needs before that: full-width to half-width
characters, trimming, whitespace, Chinese names, labels typed instead of option keys, numbers
that spreadsheets store as floats, dates typed the local way. Every function is pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from ..meta.fields import CoercionError
from ..meta.objects import FieldDef

# U+FF01..U+FF5E are the full-width forms of ASCII U+0021..U+007E; U+3000 is the ideographic space.
_HALFWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_DIRTY = re.compile("[\t\r\n\u00a0\uff01-\uff5e\u3000\u200b-\u200d\u2060\ufeff]|  ")
_SPACES = re.compile(r"[ \t\r\n\u00a0]+")
_LINE_SPACES = re.compile(r"[ \t\u00a0]+")
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_NAME_DOTS = re.compile(r"\s*[.\u00b7\u2022\u2027\u30fb\uff0e\u2219]\s*")
_ONLY_CJK_AND_DOTS = re.compile(rf"[{_CJK}\u00b7]+")
_LIST_SPLIT = re.compile(r"\s*[,;|\u3001\uff0c\uff1b]\s*")
_CN_DATE = re.compile(r"([0-9]{4})\s*[年/.\-]\s*([0-9]{1,2})\s*[月/.\-]\s*([0-9]{1,2})\s*日?")
_TRUE = frozenset({"1", "true", "yes", "y", "t", "是", "对", "✓", "√", "x"})
PERSON_NAME_FIELDS = frozenset({"name", "full_name", "contact_name", "contact"})
"""Fields holding people's names: kept exactly as typed by imports (clean_person_name is for matching)."""
_FALSE = frozenset({"0", "false", "no", "n", "f", "否", "不", "×"})


def to_halfwidth(text: str) -> str:
    """Full-width ASCII forms and the ideographic space as their plain forms (Ａ１＠ -> A1@)."""
    return text.translate(_HALFWIDTH)


def clean_text(text: str, multiline: bool = False) -> str:
    """Half-width, no invisible characters, trimmed, runs of spaces collapsed (newlines kept if multiline)."""
    if _DIRTY.search(text) is None and text[:1] != " " and text[-1:] != " ":
        return text  # the common case, checked with one regex instead of four passes
    text = to_halfwidth(text).translate(_INVISIBLE)
    if multiline:
        return "\n".join(_LINE_SPACES.sub(" ", line).strip() for line in text.splitlines()).strip()
    return _SPACES.sub(" ", text).strip()


def clean_person_name(text: str) -> str:
    """A person's name as people mean it: "王 伟" -> "王伟", "阿卜杜 • 热合曼" -> "阿卜杜·热合曼".

    Spaces between Chinese characters are typing noise; the many dots used between the parts of
    minority and transliterated names become the one interpunct U+00B7. Latin names keep their
    spaces and are otherwise only trimmed.
    """
    text = clean_text(text)
    if " " not in text and _NAME_DOTS.search(text) is None:
        return text
    text = _CJK_GAP.sub("", text)
    if _ONLY_CJK_AND_DOTS.fullmatch(_NAME_DOTS.sub("\u00b7", text)):
        text = _NAME_DOTS.sub("\u00b7", text).strip("\u00b7")
    return text


SIGNIFICANT = 15
"""Digits a spreadsheet keeps and shows: numbers from numeric cells are read to this many."""
_SCIENTIFIC = re.compile(r"[+-]?[0-9](\.[0-9]+)?[eE]\+?[0-9]{1,3}")


def digits_lost(what: Any) -> CoercionError:
    return CoercionError("digits_lost", f"'{what}' has lost digits in the spreadsheet (it keeps only 15); "
                         "format the column as text and type the number again")


def cell_text(value: Any) -> str:
    """A cell as the spreadsheet shows it: whole floats without ".0" (13800138000), float artefacts
    rounded to 15 significant digits (0.7000000000000001 -> 0.7), never scientific notation.

    A whole number past 15 digits in a numeric cell has already lost digits (Excel stores 15):
    that is a `digits_lost` error, never a silently different number.
    """
    if type(value) is str:
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise CoercionError("type", "is not a number")
        if value.is_integer() and abs(value) >= 10 ** SIGNIFICANT:
            raise digits_lost(f"{value:.{SIGNIFICANT}g}")
        text = f"{value:.{SIGNIFICANT}g}"
        if "e" in text:  # tiny or huge: write the digits out
            text = format(Decimal(text), "f")
        return text
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def unescape_formula(text: str) -> str:
    """Undo the apostrophe our exports put before text starting with = + - @ (so exports import back)."""
    return text[1:] if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@") else text


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not clean_text(value))


def _option(f: FieldDef, value: str, lookup: Mapping[str, str]) -> str:
    key = lookup.get(value.casefold())
    if key is None:
        raise CoercionError("enum", f"'{value}' is not one of the options")
    return key


def option_lookup(f: FieldDef) -> dict[str, str]:
    """Option keys by key and by every label, case-folded, for matching what people type."""
    labels = f.schema.get("x-option-labels") or {}
    out: dict[str, str] = {}
    for option in f.options:
        out[str(option).casefold()] = option
        for label in (labels.get(option) or {}).values():
            out.setdefault(clean_text(str(label)).casefold(), option)
    return out


def _number_text(value: Any) -> str:
    return clean_text(cell_text(value)).replace(",", "").replace(" ", "")


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise CoercionError("type", "is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        text = cell_text(value)
        if not re.fullmatch(r"-?[0-9]+", text):
            raise CoercionError("type", f"{text} is not a whole number")
        return int(text)
    text = _number_text(value)
    if re.fullmatch(r"-?[0-9]{1,19}(\.0+)?", text):
        return int(text.split(".")[0])
    raise CoercionError("type", f"'{value}' is not a whole number")


def _decimal(value: Any) -> str:
    if isinstance(value, bool):
        raise CoercionError("type", "is not a number")
    if isinstance(value, int | float):
        return cell_text(value)
    text = _number_text(value).lstrip("¥￥$")
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        raise CoercionError("invalid_decimal", f"'{value}' is not a number")
    return text


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = clean_text(cell_text(value)).casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CoercionError("type", f"'{value}' is not yes/no")


_EXCEL_EPOCH = date(1899, 12, 30)
_COMPACT_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_DMY = re.compile(r"([0-9]{1,2})\s*[/.\-]\s*([0-9]{1,2})\s*[/.\-]\s*([0-9]{4})")
_TIME = re.compile(r"([0-9]{1,2})[:：]([0-9]{2})(?:[:：]([0-9]{2}))?")


def _serial(value: float) -> datetime | str:
    """A spreadsheet serial number (days since 1899-12-30, fraction = time of day) as a naive datetime."""
    if 19_000_101 <= value <= 99_991_231 and value.is_integer():
        return str(int(value))  # 20231108 typed as a number in a date column
    if not 1 <= value < 2958466:
        raise CoercionError("invalid_date", f"{cell_text(value)} is not a date")
    return datetime.combine(_EXCEL_EPOCH, time()) + timedelta(days=value)


def _day(text: str, day_first: bool | None) -> tuple[date, str] | None:
    """(date, the rest of the text) of the leading date forms people type; None if there is none."""
    try:
        if m := _CN_DATE.match(text):
            rest = text[m.end():]
            return date(int(m[1]), int(m[2]), int(m[3])), (" " + rest if m[0][-1:].isspace() or m[0][-1:] == "日"
                                                          else rest)
        if m := _COMPACT_DATE.match(text):
            return date(int(m[1]), int(m[2]), int(m[3])), text[m.end():]
        if m := _DMY.match(text):
            a, b, year = int(m[1]), int(m[2]), int(m[3])
            if day_first is None and a <= 12 and b <= 12 and a != b:
                raise CoercionError("ambiguous_date", f"'{m[0]}' may be day-first or month-first; "
                                    "choose the import's date order (day_first)")
            if day_first is None:
                day_first = a > 12
            return date(year, b if day_first else a, a if day_first else b), text[m.end():]
    except CoercionError:
        raise
    except ValueError:
        raise CoercionError("invalid_date", f"'{text}' is not a date") from None
    return None


def _date(value: Any, day_first: bool | None = None) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = _serial(float(value))
        if isinstance(value, datetime):
            return value.date().isoformat()
    text = clean_text(cell_text(value))
    found = _day(text, day_first)
    if found and (not found[1].strip() or found[1][:1] in " T"):
        return found[0].isoformat()  # a time after the date is dropped: the field holds the day
    return text


def _datetime(value: Any, tz: ZoneInfo, day_first: bool | None = None) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = _serial(float(value))
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=tz)).isoformat()
    text = clean_text(cell_text(value))
    found = None if re.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T", text) else _day(text, day_first)
    if found and (not found[1].strip() or found[1][:1] in " T"):
        rest = found[1].strip(" T")
        if m := _TIME.fullmatch(rest):
            rest = f"{int(m[1]):02d}:{m[2]}:{m[3] or '00'}"
        text = f"{found[0].isoformat()}T{rest or '00:00:00'}"
    elif " " in text and "T" not in text:
        text = text.replace(" ", "T", 1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return text  # the field type reports it with its own message
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).isoformat()


def normalize_cell(f: FieldDef, value: Any, tz: ZoneInfo, options: Mapping[str, str] | None = None,
                   day_first: bool | None = None) -> Any:
    """One cell as the JSON input value of field `f`; None when blank. Raises CoercionError.

    Free text (text and textarea fields, people's names included) is kept exactly as typed, only
    trimmed: full-width punctuation, inner spacing and case are the user's. Relations are returned
    as given (text or id): the importer resolves names to ids per batch.
    """
    if value is None:
        return None
    name = f.type.name
    if type(value) is str and name in ("text", "textarea"):
        if _SCIENTIFIC.fullmatch(value.strip()) and name == "text":
            raise digits_lost(value.strip())
        kept = value.translate(_INVISIBLE).strip()
        return unescape_formula(kept) if kept else None
    if type(value) is str:
        text = clean_text(value, multiline=name == "textarea")
        if not text:
            return None
        value = text
    else:
        text = clean_text(cell_text(value))
    if name == "phone" and _SCIENTIFIC.fullmatch(text):
        raise digits_lost(text)
    if name in ("text", "email", "url", "phone"):
        text = unescape_formula(text)
        if name == "phone":
            return text.removeprefix("tel:").strip()
        return text
    if name == "textarea":
        return unescape_formula(text)
    if name == "select":
        return _option(f, text, options or option_lookup(f))
    if name == "multiselect":
        lookup = options or option_lookup(f)
        items = value if isinstance(value, list) else _LIST_SPLIT.split(text)
        out: list[str] = []
        for item in items:
            if item and (key := _option(f, clean_text(str(item)), lookup)) not in out:
                out.append(key)
        return out
    if name == "integer":
        return _integer(value)
    if name == "decimal":
        return _decimal(value)
    if name == "boolean":
        return _boolean(value)
    if name == "date":
        return _date(value, day_first)
    if name == "datetime":
        return _datetime(value, tz, day_first)
    if name == "relation":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _integer(value)
        text = clean_text(cell_text(value))
        return int(text) if text.isdigit() else text
    if name == "json" and isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            raise CoercionError("invalid_json", "is not valid JSON") from None
    return value


NANP_REGIONS = frozenset({"US", "CA", "AG", "AI", "AS", "BB", "BM", "BS", "DM", "DO", "GD", "GU", "JM", "KN",
                          "KY", "LC", "MP", "MS", "PR", "SX", "TC", "TT", "VC", "VG", "VI"})
_NANP_WRITTEN = re.compile(r"(?:1[\s.-]?)?(?:\([2-9][0-9]{2}\)\s*|[2-9][0-9]{2}[\s.-])[2-9][0-9]{2}[\s.-][0-9]{4}")


def phone_parts(text: str, region: str) -> tuple[str, str | None]:
    """(E.164 number, extension or None) of a phone typed without or with a country code.

    A number without a country code must be valid in the import's region: a North American
    number written the American way ((212) 555-0199) under region CN is an error, never stored as
    a Chinese landline that happens to share its digits. Extensions (x12, ext. 12, 转12) are
    returned apart so that the caller keeps them.
    """
    import phonenumbers

    raw = text.removeprefix("tel:").strip()
    raw = re.sub(r"\s*(?:转|分机)\s*([0-9]{1,6})$", r" ext. \1", raw)
    international = raw.startswith(("+", "00"))
    main = re.split(r"\s*(?:ext\.?|x|#)\s*[0-9]{1,6}$", raw, flags=re.IGNORECASE)[0].strip()
    if not international and region not in NANP_REGIONS and _NANP_WRITTEN.fullmatch(main):
        raise CoercionError("invalid_phone", f"'{text}' is written like a North American number; "
                            "add +1 or set the import's phone region (e.g. US)")
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise CoercionError("invalid_phone", f"'{text}' is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        where = "" if international else f" in region {region}; add the country code (+..)"
        raise CoercionError("invalid_phone", f"'{text}' is not a valid phone number{where}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), number.extension or None
