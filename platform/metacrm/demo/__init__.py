"""Realistic demo data for the standard CRM pack (metadata/objects).

Everything here is pure: rows depend only on the random generator's seed and the anchor date
("today"), never on global state. `load_demo` inserts through a caller-supplied bulk create, so
the record service still validates, emits events and audits every row.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import phonenumbers

from .vocabulary import (
    _ACTIVITY_NOTES,
    _ACTIVITY_SUBJECTS,
    _BRANDS_CN,
    _BRANDS_EN,
    _CHANNELS,
    _CITY_WEIGHTS_CN,
    _CITY_WEIGHTS_EN,
    _CN_CITIES,
    _CN_MAIL,
    _CREDIT_CHARS,
    _CUSTOMER_NOTES,
    _DEAL_PRODUCTS_CN,
    _DEAL_PRODUCTS_EN,
    _DEAL_REGIONS,
    _DIVISION_CODES,
    _DURATIONS,
    _EN_MAIL,
    _EN_SUFFIX,
    _EXTRA_SAMPLES,
    _FIRST_FEMALE,
    _FIRST_MALE,
    _GIVEN_FEMALE,
    _GIVEN_MALE,
    _GLOBAL_CITIES,
    _INDUSTRY_WORDS_CN,
    _INDUSTRY_WORDS_EN,
    _INTERESTS,
    _JOB_TITLES_CN,
    _JOB_TITLES_EN,
    _LAST,
    _LEAD_NOTES,
    _LOST_REASONS,
    _MOBILE_PREFIXES,
    _ROADS,
    _SIZES,
    _STAGES,
    _SURNAMES,
    _US_AREA,
    DEMO_PLAN,
    _Channel,
    _Person,
)

Row = dict[str, Any]
CreateMany = Callable[[str, list[Row]], list[int]]

CHUNK_SIZE = 1000
HISTORY_DAYS = 548  # about 18 months
CST = timezone(timedelta(hours=8))

def _weighted(rng: random.Random, table: Mapping[str, int]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def _money(amount: float, step_cents: int = 1) -> str:
    """A decimal string with two places, rounded to a multiple of `step_cents`."""
    cents = max(0, round(amount * 100 / step_cents) * step_cents)
    return f"{cents // 100}.{cents % 100:02d}"


def _iso_datetime(rng: random.Random, moment: datetime) -> str:
    """Mostly China Standard Time offsets, sometimes UTC with Z: both are valid input."""
    if rng.random() < 0.8:
        return moment.astimezone(CST).isoformat(timespec="seconds")
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _work_time(rng: random.Random, day: date, step_minutes: int = 1) -> datetime:
    minute = rng.randrange(9 * 60, 18 * 60 + 30, step_minutes)
    return datetime.combine(day, time(minute // 60, minute % 60), CST)


def _credit_code(rng: random.Random, city: str) -> str:
    """A unified social credit code (GB 32100-2015) with valid check characters."""
    body = [rng.choice("0123456789") for _ in range(8)]
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    check = 11 - sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11
    org = "".join(body) + {10: "X", 11: "0"}.get(check, str(check))
    head = "91" + _DIVISION_CODES[city] + org  # 9: registered by market regulators, 1: a company
    values = [_CREDIT_CHARS.index(c) for c in head]
    weights18 = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    last = (31 - sum(v * w for v, w in zip(values, weights18, strict=True)) % 31) % 31
    return head + _CREDIT_CHARS[last]


class _Builder:
    """Row builders for one call of generate_rows: the generator, the anchor date and what is taken."""

    def __init__(self, rng: random.Random, ids: Mapping[str, Sequence[int]], user_ids: Sequence[int],
                 today: date, taken: set[str]) -> None:
        self.rng = rng
        self.ids = ids
        self.user_ids = list(user_ids)
        self.today = today
        self.taken = taken

    # --- choices ---

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, target: str) -> int | None:
        pool = self.ids.get(target) or ()
        return self.rng.choice(pool) if pool else None

    def pick_channel(self) -> tuple[int, _Channel] | None:
        """A channel id, skewed like real traffic; ids are assumed in DEMO_PLAN creation order."""
        pool = list(self.ids.get("channel") or ())
        if not pool:
            return None
        weights = [_CHANNELS[i % len(_CHANNELS)].weight for i in range(len(pool))]
        index = self.rng.choices(range(len(pool)), weights=weights)[0]
        return pool[index], _CHANNELS[index % len(_CHANNELS)]

    def past_day(self, max_days: int = HISTORY_DAYS, recent_bias: float = 1.0) -> date:
        """A day in the last `max_days`; recent_bias > 1 crowds days towards today."""
        return self.today - timedelta(days=1 + int((max_days - 1) * self.rng.random() ** recent_bias))

    def base(self) -> Row:
        return {"owner_id": self.rng.choice(self.user_ids)} if self.user_ids else {}

    # --- people ---

    def person(self, chinese_share: float = 0.7) -> _Person:
        rng = self.rng
        gender = "female" if rng.random() < 0.52 else "male"
        if rng.random() < chinese_share:
            family, family_py, _ = rng.choices(_SURNAMES, weights=[s[2] for s in _SURNAMES])[0]
            given, given_py = rng.choice(_GIVEN_FEMALE if gender == "female" else _GIVEN_MALE)
            return _Person(family + given, gender, True, (family_py, given_py))
        first = rng.choice(_FIRST_FEMALE if gender == "female" else _FIRST_MALE)
        last = rng.choice(_LAST)
        return _Person(f"{first} {last}", gender, False, (last.lower(), first.lower()))

    def city(self, person: _Person) -> str:
        return _weighted(self.rng, _CITY_WEIGHTS_CN if person.chinese else _CITY_WEIGHTS_EN)

    def claim(self, key: str) -> bool:
        if key in self.taken:
            return False
        self.taken.add(key)
        return True

    def phone(self, city: str, landline: bool = False) -> str | None:
        """A valid phone number not used anywhere else in the demo (None if none is found)."""
        for _ in range(50):
            text = self._phone_candidate(city, landline)
            number = phonenumbers.parse(text, "CN")
            if not phonenumbers.is_valid_number(number):
                continue
            if self.claim("phone:" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)):
                return text
            if self.rng.random() < 0.3:  # a small fictional range is crowded: fall back to a mobile
                city = "other"
        return None

    def _phone_candidate(self, city: str, landline: bool) -> str:
        rng = self.rng
        digits = f"{rng.randrange(10**8):08d}"
        if city in _CN_CITIES and landline:
            return f"0{_CN_CITIES[city][1]}-{rng.randint(2, 8)}{digits[1:]}"
        if city == "hong_kong":
            return f"+852 {rng.choice('23' if landline else '569')}{digits[1:4]} {digits[4:]}"
        if city == "singapore":
            return f"+65 {rng.choice('6' if landline else '89')}{digits[1:4]} {digits[4:]}"
        if city == "tokyo":
            return f"+81 3 {digits[:4]} {digits[4:]}" if landline else f"+81 {rng.choice(('90', '80'))} {digits[:4]} {digits[4:]}"
        if city == "london":  # Ofcom's range reserved for drama
            return f"+44 20 7946 0{digits[:3]}"
        if city in _US_AREA:  # 555-0100..0199 is reserved for fiction
            return f"+1 {rng.choice(_US_AREA[city])} 555 01{digits[:2]}"
        return rng.choice(_MOBILE_PREFIXES) + digits

    def person_phone(self, person: _Person, city: str) -> str | None:
        abroad = city in _GLOBAL_CITIES and (not person.chinese or self.chance(0.3)) and self.chance(0.85)
        return self.phone(city if abroad else "other")

    def email(self, person: _Person, domain: str | None = None) -> str:
        """A unique, plausible address: personal, or at `domain` (a work address)."""
        rng = self.rng
        family, given = person.handle_parts
        if domain is None:
            domain = _weighted(rng, dict(_CN_MAIL if person.chinese else _EN_MAIL))
        if domain == "qq.com" and rng.random() < 0.6:
            local = str(rng.randint(10_000_000, 3_999_999_999))
        else:
            local = rng.choice((f"{given}.{family}", f"{family}{given}", f"{given[0]}{family}",
                                f"{family}.{given}{rng.randint(1, 99)}", f"{given}{family}{rng.randint(70, 2005)}"))
        candidate = f"{local}@{domain}"
        while not self.claim("email:" + candidate.lower()):
            candidate = f"{local}{rng.randint(1, 9999)}@{domain}"
        return candidate

    def wechat_id(self, person: _Person) -> str:
        family, given = person.handle_parts
        handle = self.rng.choice((f"{family}{given}", f"{given}_{family}", f"{given}-{family}", f"wx{given}"))
        if self.rng.random() < 0.7 or len(handle) < 6:
            handle += str(self.rng.randint(10, 9999))
        return handle[:20].ljust(6, "0")  # WeChat ids are 6-20 characters

    # --- companies ---

    def company(self, chinese_share: float = 0.75) -> tuple[str, str, str, str]:
        """(name, city, industry, web domain) of a company, Chinese `chinese_share` of the time."""
        rng = self.rng
        if rng.random() < chinese_share:
            city = _weighted(rng, {k: v for k, v in _CITY_WEIGHTS_CN.items() if k in _CN_CITIES})
            brand, brand_py = rng.choice(_BRANDS_CN)
            word, word_py, industry = rng.choice(_INDUSTRY_WORDS_CN)
            suffix = "股份有限公司" if rng.random() < 0.15 else "有限公司"
            domain = f"{brand_py}{word_py}" + rng.choice((".com", ".com.cn", ".cn"))
            return f"{_CN_CITIES[city][0]}{brand}{word}{suffix}", city, industry, domain
        city = _weighted(rng, {"shanghai": 3, "beijing": 1, "shenzhen": 1, "hong_kong": 3, "singapore": 3,
                               "tokyo": 2, "london": 3, "new_york": 3, "san_francisco": 3})
        brand = rng.choice(_BRANDS_EN)
        word, industry = rng.choice(_INDUSTRY_WORDS_EN)
        if city in _CN_CITIES:
            name = f"{brand} {word} ({city.replace('_', ' ').title()}) Co., Ltd."
        else:
            name = f"{brand} {word} {_EN_SUFFIX[city]}"
        return name, city, industry, f"{brand}-{word}.com".lower()

    def address(self, city: str) -> str:
        rng = self.rng
        if city in _CN_CITIES:
            zh, _, districts = _CN_CITIES[city]
            return (f"{zh}市{rng.choice(districts)}{rng.choice(_ROADS)}{rng.randint(1, 2000)}号"
                    f"{rng.randint(1, 30)}楼{rng.randint(1, 20):02d}室")
        label, streets = _GLOBAL_CITIES[city]
        return f"{rng.randint(1, 999)} {rng.choice(streets)}, {label}"

    # --- objects ---

    def channel(self, i: int) -> Row:
        spec = _CHANNELS[i % len(_CHANNELS)]
        lap = i // len(_CHANNELS)
        row = {**self.base(), "name": spec.name + (f" {lap + 1}" if lap else ""),
               "code": spec.code + (f"_{lap + 1}" if lap else ""), "kind": spec.kind, "active": spec.active,
               "cost": _money(spec.cost * self.rng.uniform(0.8, 1.2), 100_00),
               "started_on": (self.today - timedelta(days=spec.age_days)).isoformat(),
               "description": spec.description}
        if spec.landing_url:
            row["landing_url"] = spec.landing_url
        return row

    def account(self, names: set[str]) -> Row:
        rng = self.rng
        for _ in range(20):
            name, city, industry, domain = self.company()
            if name not in names:
                break
        else:
            name = f"{name} {len(names) + 1}"
        names.add(name)
        size, _, low, high = rng.choices(_SIZES, weights=[s[1] for s in _SIZES])[0]
        tier = "standard"
        if size in ("large", "enterprise"):
            tier = rng.choices(("strategic", "key", "standard"), weights=(3, 4, 3))[0]
        elif rng.random() < 0.2:
            tier = "key"
        row: Row = {**self.base(), "name": name, "industry": industry, "size": size, "tier": tier, "city": city,
                    "annual_revenue": _money(rng.uniform(low, high), 10_000_00),
                    "founded_year": rng.randint(1985 if size == "enterprise" else 1998, self.today.year - 1)}
        if city in _CN_CITIES and rng.random() < 0.9:
            code = _credit_code(rng, city)
            while not self.claim("credit:" + code):
                code = _credit_code(rng, city)
            row["credit_code"] = code
        if rng.random() < 0.85:
            row["website"] = f"https://www.{domain}/"
        if rng.random() < 0.9 and (phone := self.phone(city, landline=True)):
            row["phone"] = phone
        if rng.random() < 0.8:
            row["address"] = self.address(city)
        return row

    def customer(self) -> Row:
        rng = self.rng
        person = self.person()
        city = self.city(person)
        since = self.past_day()
        row: Row = {**self.base(), "name": person.name,
                    "gender": "undisclosed" if rng.random() < 0.05 else person.gender, "city": city,
                    "language": ("zh" if rng.random() < 0.95 else "en") if person.chinese
                    else ("en" if rng.random() < 0.85 else "zh"),
                    "customer_since": since.isoformat(), "member": rng.random() < 0.45,
                    "consent_marketing": rng.random() < 0.6}
        if rng.random() < 0.97 and (phone := self.person_phone(person, city)):
            row["phone"] = phone
        if rng.random() < 0.7:
            row["email"] = self.email(person)
        if person.chinese and rng.random() < 0.6:
            row["wechat_id"] = self.wechat_id(person)
        if rng.random() < 0.75:
            age = min(70, max(18, round(rng.gauss(34, 10))))
            row["birthday"] = (date(self.today.year - age, 1, 1) + timedelta(days=rng.randrange(365))).isoformat()
        if rng.random() < 0.35 and (account := self.pick("account")):
            row["account"] = account
        if rng.random() < 0.9 and (channel := self.pick_channel()):
            row["channel"] = channel[0]
        row["interests"] = sorted(rng.sample(_INTERESTS, rng.choice((0, 1, 1, 2, 2, 3, 4))))
        orders = 0 if rng.random() < 0.15 else min(60, int(rng.expovariate(1 / 5)) + 1)
        row["order_count"] = orders
        row["lifetime_value"] = _money(sum(rng.uniform(80, 2500) for _ in range(orders)))
        if orders:
            span = (self.today - since).days
            last_day = self.today - timedelta(days=rng.randint(1, max(1, span)))
            row["last_order_at"] = _iso_datetime(rng, _work_time(rng, last_day) + timedelta(hours=rng.randint(0, 4)))
        if rng.random() < 0.15:
            row["notes"] = rng.choice(_CUSTOMER_NOTES)
        if rng.random() < 0.3:
            row["extra"] = dict(rng.choice(_EXTRA_SAMPLES))
        return row

    def lead(self) -> Row:
        rng = self.rng
        person = self.person()
        city = self.city(person)
        status = rng.choices(("new", "contacted", "qualified", "unqualified", "converted"),
                             weights=(30, 25, 15, 15, 15))[0]
        low, high = {"new": (5, 60), "contacted": (20, 70), "qualified": (60, 100), "unqualified": (0, 40),
                     "converted": (70, 100)}[status]
        captured = self.past_day(recent_bias=1.4)
        row: Row = {**self.base(), "name": person.name, "city": city, "status": status,
                    "score": rng.randint(low, high),
                    "captured_at": _iso_datetime(rng, _work_time(rng, captured) + timedelta(hours=rng.randint(-8, 4))),
                    "consent_marketing": rng.random() < 0.65}
        domain = None
        if rng.random() < 0.7:
            company, _, _, company_domain = self.company(0.9 if person.chinese else 0.25)
            row["company"] = company
            row["job_title"] = rng.choice(_JOB_TITLES_CN if person.chinese else _JOB_TITLES_EN)
            domain = company_domain if rng.random() < 0.5 else None
        if rng.random() < 0.9 and (phone := self.person_phone(person, city)):
            row["phone"] = phone
        if rng.random() < 0.6:
            row["email"] = self.email(person, domain)
        if person.chinese and rng.random() < 0.45:
            row["wechat_id"] = self.wechat_id(person)
        if rng.random() < 0.95 and (channel := self.pick_channel()):
            row["channel"], spec = channel
            row["source_detail"] = rng.choice(spec.details)
        if rng.random() < 0.4:
            row["budget"] = _money(rng.lognormvariate(11.5, 1.1), 1_000_00)
        row["interests"] = sorted(rng.sample(_INTERESTS, rng.choice((0, 1, 1, 2, 3))))
        if status in ("new", "contacted", "qualified"):
            row["next_follow_up"] = (self.today + timedelta(days=rng.randint(-7, 30))).isoformat()
        if status == "converted" and (customer := self.pick("customer")):
            row["converted_customer"] = customer
        if rng.random() < 0.2:
            row["notes"] = rng.choice(_LEAD_NOTES)
        return row

    def opportunity(self) -> Row:
        rng = self.rng
        stage, _, probability = rng.choices(_STAGES, weights=[s[1] for s in _STAGES])[0]
        currency = rng.choices(("CNY", "USD", "EUR"), weights=(85, 10, 5))[0]
        if rng.random() < 0.7:
            template = rng.choice(("{p}采购项目", "{p}年度订阅", "{y}年{p}续约", "{r}{p}扩容（{s} 席位）",
                                   "{p}私有化部署", "{p}试点项目"))
            product = rng.choice(_DEAL_PRODUCTS_CN)
        else:
            template = rng.choice(("{p} annual subscription", "{p} renewal {y}", "{p} expansion ({s} seats)",
                                   "{p} pilot", "{p} on-premise deployment"))
            product = rng.choice(_DEAL_PRODUCTS_EN)
        name = template.format(p=product, y=self.today.year + rng.choice((-1, 0, 0, 1)),
                               r=rng.choice(_DEAL_REGIONS), s=rng.choice((20, 50, 100, 200, 500)))
        amount = rng.lognormvariate(12.3, 1.0) / (7 if currency != "CNY" else 1)
        if stage in ("won", "lost"):
            close = self.past_day(max_days=HISTORY_DAYS - 30)
        else:
            close = self.today + timedelta(days=rng.randint(-14, 180))
        row: Row = {**self.base(), "name": name, "stage": stage, "probability": probability,
                    "amount": _money(amount, 100_00), "currency": currency, "expected_close": close.isoformat()}
        if rng.random() < 0.85 and (account := self.pick("account")):
            row["account"] = account
        if rng.random() < 0.6 and (customer := self.pick("customer")):
            row["customer"] = customer
        if rng.random() < 0.4 and (lead := self.pick("lead")):
            row["lead"] = lead
        if stage == "lost":
            row["lost_reason"] = rng.choice(_LOST_REASONS)
        if rng.random() < 0.3:
            row["description"] = rng.choice(_LEAD_NOTES)
        return row

    def member(self) -> Row:
        """A loyalty member of a customer (the member programme: tiers, points, benefits)."""
        rng = self.rng
        number = f"M{rng.randrange(10**7):07d}"
        while not self.claim("member:" + number):
            number = f"M{rng.randrange(10**7):07d}"
        joined = _work_time(rng, self.past_day(recent_bias=1.5))
        row: Row = {**self.base(), "member_no": number, "joined_at": _iso_datetime(rng, joined),
                    "tier": rng.choices(("silver", "gold", "platinum"), weights=(70, 24, 6))[0],
                    "status": "active" if rng.random() < 0.97 else "frozen", "birth_month": rng.randint(1, 12)}
        if (customer := self.pick("customer")) is not None:
            row["customer"] = customer
        return row

    def sales_order(self) -> Row:
        rng = self.rng
        number = f"SO{rng.randrange(10**9):09d}"
        while not self.claim("order:" + number):
            number = f"SO{rng.randrange(10**9):09d}"
        status = rng.choices(("paid", "pending", "refunded", "cancelled"), weights=(80, 8, 5, 7))[0]
        row: Row = {**self.base(), "order_no": number, "status": status,
                    "amount": _money(rng.lognormvariate(5.5, 0.9), 100)}
        if status in ("paid", "refunded"):
            row["paid_at"] = _iso_datetime(rng, _work_time(rng, self.past_day(recent_bias=1.3)))
        if (member := self.pick("member")) is not None:
            row["member"] = member
        if (customer := self.pick("customer")) is not None:
            row["customer"] = customer
        return row

    def activity(self) -> Row:
        rng = self.rng
        kind = rng.choices(tuple(_ACTIVITY_SUBJECTS), weights=(30, 10, 15, 15, 15, 15))[0]
        zh, en = _ACTIVITY_SUBJECTS[kind]
        subject = rng.choice(zh if rng.random() < 0.7 else en)
        day = self.today + timedelta(days=rng.randint(-365, 30))
        due = _work_time(rng, day, step_minutes=1 if kind == "call" else 15)
        past = day < self.today
        row: Row = {**self.base(), "subject": subject, "type": kind,
                    "priority": rng.choices(("low", "normal", "high"), weights=(20, 60, 20))[0],
                    "due_at": _iso_datetime(rng, due), "done": past and rng.random() < 0.85}
        if kind in _DURATIONS:
            row["duration_minutes"] = rng.randint(*_DURATIONS[kind])
        about = rng.choices(("lead", "customer", "opportunity", "account"), weights=(40, 25, 25, 10))[0]
        if (target := self.pick(about)) is not None:
            row[about] = target
        if about == "opportunity" and rng.random() < 0.7 and (account := self.pick("account")):
            row["account"] = account
        if kind == "note" or (row["done"] and rng.random() < 0.5):
            row["notes"] = rng.choice(_ACTIVITY_NOTES)
        return row


def generate_rows(object_name: str, count: int, ids: Mapping[str, Sequence[int]], user_ids: Sequence[int],
                  rng: random.Random, *, today: date | None = None, taken: set[str] | None = None) -> list[Row]:
    """`count` demo rows of one standard object, as JSON-ready dicts.

    Relations pick from `ids[target]` (left out when there are none), owner_id from `user_ids`.
    `taken` holds the phones and emails already used (pass one set for a whole demo to keep
    them unique across objects); it is updated in place.
    """
    builder = _Builder(rng, ids, user_ids, today or date.today(), set() if taken is None else taken)
    if object_name == "channel":
        return [builder.channel(i) for i in range(count)]
    if object_name == "account":
        names: set[str] = set()
        return [builder.account(names) for _ in range(count)]
    make: Callable[[], Row] | None = {"customer": builder.customer, "lead": builder.lead,
                                      "opportunity": builder.opportunity,
                                      "activity": builder.activity, "member": builder.member,
                                      "sales_order": builder.sales_order}.get(object_name)
    if make is None:
        raise ValueError(f"no demo data for object {object_name!r}")
    return [make() for _ in range(count)]


def plan_counts(scale: float = 1.0) -> list[tuple[str, int]]:
    """DEMO_PLAN with every count scaled (at least one row per object)."""
    return [(name, max(1, round(count * scale))) for name, count in DEMO_PLAN]


def load_demo(create_many: CreateMany, user_ids: Sequence[int], seed: int = 7, scale: float = 1.0,
              *, today: date | None = None) -> dict[str, int]:
    """Generate and insert the demo in DEMO_PLAN order, CHUNK_SIZE rows per create_many call.

    Each object gets its own generator derived from `seed`, so one object's rows do not shift
    when another's count changes. Returns the number of rows created per object.
    """
    anchor = today or date.today()
    ids: dict[str, list[int]] = {}
    taken: set[str] = set()
    for name, count in plan_counts(scale):
        rows = generate_rows(name, count, ids, user_ids, random.Random(f"{seed}:{name}"), today=anchor, taken=taken)
        created: list[int] = []
        for start in range(0, len(rows), CHUNK_SIZE):
            chunk = rows[start:start + CHUNK_SIZE]
            new_ids = list(create_many(name, chunk))
            if len(new_ids) != len(chunk):
                raise RuntimeError(f"create_many({name!r}) returned {len(new_ids)} ids for {len(chunk)} rows")
            created.extend(new_ids)
        ids[name] = created
    return {name: len(created) for name, created in ids.items()}


def todays_tasks(owner_leads: Mapping[int, Sequence[int]], today: date | None = None) -> list[Row]:
    """Open tasks for each user who logs in to the demo: one overdue and two due today, each about one
    of their own leads, with a reminder a quarter of an hour before it is due (their home page is
    never empty on the day the demo is loaded)."""
    anchor = today or datetime.now(CST).date()
    zh, en = _ACTIVITY_SUBJECTS["task"]
    rows: list[Row] = []
    for n, (owner, leads) in enumerate(sorted(owner_leads.items())):
        subjects = zh if n % 2 == 0 else en
        slots = ((anchor - timedelta(days=1), time(16, 0)), (anchor, time(10, 30)), (anchor, time(17, 30)))
        for i, (day, at) in enumerate(slots):
            due = datetime.combine(day, at, CST)
            row: Row = {"owner_id": owner, "subject": subjects[(n + i) % len(subjects)],
                        "type": "task", "priority": "high" if i == 0 else "normal",
                        "due_at": due.isoformat(timespec="seconds"),
                        "remind_at": (due - timedelta(minutes=15)).isoformat(timespec="seconds"), "done": False}
            if leads:
                row["lead"] = leads[i % len(leads)]
            rows.append(row)
    return rows
