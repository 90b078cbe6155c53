"""Bulk-seed one workspace with realistic leads and journeys (executemany on SQLite, COPY on PG)."""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from leadsite import accounts, funnels
from leadsite.extensions import db
from leadsite.models import Funnel, FunnelStatus, Lead, OriginKind, Role, Workspace
from leadsite.models.lead import search_key

WORKSPACE_SLUG = "bench"
STAFF_EMAIL = "staff@bench.example"
STAFF_PASSWORD = "bench-staff-password"
BATCH = 10_000
SPAN = timedelta(days=730)  # leads registered over the last two years


def _words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = _words(
    "James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony "
    "Betty Mark Sandra Paul Ashley Steven Emily Andrew Donna Joshua Michelle Kevin Carol Brian "
    "Amanda Emma Noah Olivia Liam Sophie Lucas Mila Daan Julia Sem Tess Finn Lotte Levi Saar "
    "Ada Ben Chloé Dev Farid Grace Hiro Inès Jonas Kofi Lena Mateo Nora Olu Priya Quinn Rosa "
    "Sven Tara Umar Vera Wen Ximena Yusuf Zoë Léa Hugo Chloe Louis Manon Jules Camille Arthur "
    "Lukas Lea Leon Anna Felix Marie Paul Laura Elias Mia Aarav Ananya Vihaan Diya Arjun Saanvi "
    "Mohammed Fatima Ali Aisha Omar Layla Hamza Mariam Wei Fang Jie Li Yuki Haruto Sakura Ren "
    "José Ana Luis Carmen Javier Lucía Diego Sofía Pedro Isabel Gabriel Valentina Miguel Camila "
    "Oluwaseun Chiamaka Kwame Amara Tunde Nia Sipho Zanele Björn Astrid Lars Ingrid Piotr Agnieszka"
)
# An underscore stands for a space inside a last name (de_Jong).
LAST_NAMES = [
    name.replace("_", " ")
    for name in _words(
        "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
        "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
        "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
        "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell "
        "Carter Roberts de_Jong Jansen de_Vries van_den_Berg van_Dijk Bakker Visser Smit Meijer "
        "de_Boer Mulder Bos Vos Peters Lovelace Okafor Patel Schmidt Haddad Hopper Tanaka "
        "Dubois Berg Mensah Novak García Larsen Adeyemi Sharma Byrne Rossi Lindqvist Kaur "
        "Farouk Ivanova Zhang López Demir Müller Schneider Fischer Weber Meyer Wagner Becker "
        "Schulz Hoffmann Koch Bernard Dubois Durand Lefebvre Moreau Laurent Simon Michel Leroy "
        "Roux Kumar Singh Gupta Reddy Iyer Khan Ahmed Hassan Chen Wang Liu Yang Huang Sato "
        "Suzuki Takahashi Watanabe Silva Santos Oliveira Souza Pereira Costa Ferreira Nowak "
        "Kowalski Wiśniewski Andersson Johansson Nilsson Eriksson Hansen Nielsen Jensen Murphy "
        "Kelly O'Brien Walsh Dlamini Nkosi Osei Boateng Mwangi Otieno Yilmaz Kaya Çelik Popescu"
    )
]
DOMAINS = (
    ["gmail.com"] * 10
    + ["outlook.com"] * 4
    + ["yahoo.com"] * 3
    + ["hotmail.com", "icloud.com", "proton.me", "gmx.de", "web.de", "orange.fr", "ziggo.nl"]
    + ["acme.example", "globex.example", "initech.example", "umbrella.example", "hooli.example"]
)
STATUSES = ["new"] * 8 + ["contacted"] * 4 + ["qualified"] * 3 + ["customer"] * 2 + ["lost"] * 3
TAGS = [
    ("newsletter", 30),
    ("webinar", 15),
    ("trial", 12),
    ("vip", 3),
    ("partner", 2),
    ("event-2025", 6),
    ("event-2026", 6),
    ("b2b", 10),
    ("b2c", 10),
    ("referral", 5),
    ("reactivated", 2),
    ("high-intent", 4),
]
UTM = [
    ("google", "cpc", "brand-search"),
    ("google", "cpc", "generic-search"),
    ("facebook", "paid-social", "spring-promo"),
    ("linkedin", "social", "b2b-launch"),
    ("newsletter", "email", "weekly-digest"),
    (None, None, None),
    (None, None, None),
    (None, None, None),
]
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "python-requests/2.32.3",
]
# (calling-code prefix, digits after it, weight): every number is unique by the lead's index.
PHONE_PLANS = [
    ("+1{area}", 7, 30),
    ("+316", 8, 20),
    ("+447", 9, 15),
    ("+49151", 8, 10),
    ("+336", 8, 10),
    ("+5511 9", 8, 5),
    ("+919", 9, 10),
]
US_AREAS = ["202", "212", "312", "415", "512", "617", "646", "718", "305", "206"]
# Funnels with their share of leads and the origins leads come in by.
FUNNELS = [
    ("Newsletter sign-up", 50, [OriginKind.EMBED, OriginKind.PAGE, OriginKind.API]),
    ("Webinar registrations", 25, [OriginKind.PAGE, OriginKind.API]),
    ("Product trial", 20, [OriginKind.API, OriginKind.PAGE, OriginKind.BACKOFFICE]),
    ("Enterprise demo", 5, [OriginKind.PAGE, OriginKind.BACKOFFICE, OriginKind.IMPORT]),
]
SECOND_JOURNEY_SHARE = 0.15  # leads that also registered through a second funnel
ERASED_SHARE = 0.002

LEAD_COLUMNS = _words(
    "id workspace_id origin_id email phone first_name last_name first_name_key last_name_key "
    "address status source "
    "source_url referrer ip user_agent utm_source utm_medium utm_campaign tags custom_fields "
    "counter opt_in opt_in_at sms_opt_in erased_at created_at updated_at"
)
JOURNEY_COLUMNS = _words(
    "id workspace_id lead_id funnel_id origin_id status access_token valid_until completed_at "
    "created_at updated_at"
)
BASE32 = "0123456789abcdefghjkmnpqrstvwxyz"


@dataclass
class Fixtures:
    """The seeded workspace, its funnels (with their origins) and the staff user."""

    workspace_id: str
    funnel_ids: list[str]
    origin_ids: dict[str, list[str]] = field(default_factory=dict)  # by funnel id


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, index = divmod(value, 32)
        chars.append(BASE32[index])
    return "".join(reversed(chars))


def _id(prefix: str, millis: int, rng: random.Random) -> str:
    """The same shape as leadsite.ids.new_id, for a given time (seeded leads are in the past)."""
    return f"{prefix}_{_base32(millis, 10)}{_base32(rng.getrandbits(80), 16)}"


def _ascii(text: str) -> str:
    table = str.maketrans("éèëçöüäåøóíáñßśšç'", "eeecouaaooiansssc ")
    return text.lower().translate(table).replace(" ", "")


def create_fixtures() -> Fixtures:
    """Create the workspace, the staff user and the funnels with their origins (ORM, small)."""
    workspace, _ = accounts.get_or_create_workspace("Bench workspace", WORKSPACE_SLUG)
    workspace.default_country = "NL"
    user = accounts.set_user(STAFF_EMAIL, STAFF_PASSWORD, name="Bench Staff")
    accounts.add_member(user, workspace, Role.MANAGER)
    fixtures = Fixtures(workspace_id=workspace.id, funnel_ids=[])
    for name, _share, kinds in FUNNELS:
        funnel = Funnel(workspace_id=workspace.id, name=name, status=FunnelStatus.ACTIVE)
        db.session.add(funnel)
        db.session.flush()
        funnels.add_stage(funnel, "Welcome")
        fixtures.funnel_ids.append(funnel.id)
        fixtures.origin_ids[funnel.id] = [
            funnels.add_origin(funnel, kind, f"{name}: {kind.value}").id for kind in kinds
        ]
    db.session.commit()
    return fixtures


def load_fixtures() -> Fixtures | None:
    """The fixtures of an already seeded database, or None."""
    workspace = db.session.scalar(db.select(Workspace).filter_by(slug=WORKSPACE_SLUG))
    if workspace is None:
        return None
    fixtures = Fixtures(workspace_id=workspace.id, funnel_ids=[])
    by_name = {
        f.name: f
        for f in db.session.scalars(db.select(Funnel).filter_by(workspace_id=workspace.id))
    }
    for name, _share, _kinds in FUNNELS:
        funnel = by_name[name]
        fixtures.funnel_ids.append(funnel.id)
        fixtures.origin_ids[funnel.id] = [o.id for o in funnel.origins]
    return fixtures


def count_leads(workspace_id: str) -> int:
    return db.session.scalar(
        db.select(db.func.count()).select_from(Lead).filter_by(workspace_id=workspace_id)
    )


class _Generator:
    """Makes lead and journey rows; all randomness comes from one seeded Random."""

    def __init__(self, fixtures: Fixtures, total: int, seed: int) -> None:
        self.f = fixtures
        self.total = total
        self.rng = random.Random(seed)
        self.end = time.time()
        self.start = self.end - SPAN.total_seconds()
        self.step = SPAN.total_seconds() / total
        self.first_cum = self._zipf(len(FIRST_NAMES))
        self.last_cum = self._zipf(len(LAST_NAMES))
        self.funnel_cum = self._cumulative([share for _, share, _ in FUNNELS])
        self.tag_cum = self._cumulative([w for _, w in TAGS])
        self.phone_cum = self._cumulative([w for *_, w in PHONE_PLANS])

    @staticmethod
    def _cumulative(weights: Sequence[float]) -> list[float]:
        total, cum = 0.0, []
        for weight in weights:
            total += weight
            cum.append(total)
        return cum

    def _zipf(self, n: int) -> list[float]:
        return self._cumulative([1 / (rank + 1) ** 0.7 for rank in range(n)])

    def _pick(self, items: Sequence[Any], cum: list[float]) -> Any:
        return self.rng.choices(items, cum_weights=cum)[0]

    def _email(self, index: int, first: str, last: str) -> str:
        first_a, last_a = _ascii(first), _ascii(last)
        domain = self.rng.choice(DOMAINS)
        number = (index * 7919) % 1_000_003  # unique per index, not in registration order
        style = self.rng.randrange(4)
        if style == 0:
            local = f"{first_a}.{last_a}{number}"
        elif style == 1:
            local = f"{first_a[0]}{last_a}.{number}"
        elif style == 2:
            local = f"{first_a}_{number}"
        else:
            local = f"{last_a}.{first_a}-{number}"
        return f"{local}@{domain}"

    def _phone(self, index: int) -> str:
        prefix, digits, _ = self._pick(PHONE_PLANS, self.phone_cum)
        prefix = prefix.format(area=self.rng.choice(US_AREAS)).replace(" ", "")
        number = (index * 7_654_321 + 12_345) % 10**digits  # a bijection: unique per index
        return f"{prefix}{number:0{digits}d}"

    def _tags(self) -> list[str]:
        count = self.rng.choices([0, 1, 2, 3], weights=[35, 35, 20, 10])[0]
        names = [t for t, _ in TAGS]
        return sorted({self._pick(names, self.tag_cum) for _ in range(count)})

    def batches(self) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
        """Yield (lead rows, journey rows) in batches, oldest leads first."""
        rng = self.rng
        leads: list[tuple[Any, ...]] = []
        journeys: list[tuple[Any, ...]] = []
        ws = self.f.workspace_id
        for index in range(self.total):
            stamp = self.start + self.step * (index + rng.random() * 0.9)
            created = datetime.fromtimestamp(stamp, UTC)
            funnel_index = self._pick(range(len(FUNNELS)), self.funnel_cum)
            funnel_id = self.f.funnel_ids[funnel_index]
            origin_id = rng.choice(self.f.origin_ids[funnel_id])
            first = self._pick(FIRST_NAMES, self.first_cum)
            last = self._pick(LAST_NAMES, self.last_cum)
            email = self._email(index, first, last) if rng.random() < 0.95 else None
            phone = self._phone(index) if email is None or rng.random() < 0.7 else None
            utm_source, utm_medium, utm_campaign = rng.choice(UTM)
            opt_in = rng.random() < 0.6
            erased = rng.random() < ERASED_SHARE
            lead_id = _id("lead", int(stamp * 1000), rng)
            leads.append(
                (
                    lead_id,
                    ws,
                    origin_id,
                    None if erased else email,
                    None if erased else phone,
                    None if erased else first,
                    None if erased else last,
                    None if erased else search_key(first),
                    None if erased else search_key(last),
                    f"{rng.randint(1, 400)} Main Street, Springfield"
                    if rng.random() < 0.2
                    else None,
                    rng.choice(STATUSES),
                    rng.choice(["website", "landing-page", "partner-portal", None]),
                    "https://www.example.com/signup?plan=pro" if rng.random() < 0.5 else None,
                    "https://www.google.com/" if rng.random() < 0.3 else None,
                    f"203.0.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                    rng.choice(USER_AGENTS),
                    utm_source,
                    utm_medium,
                    utm_campaign,
                    self._tags(),
                    {"company": f"{last} & Co", "team_size": rng.choice([1, 5, 12, 40, 250])}
                    if rng.random() < 0.4
                    else {},
                    1 + (rng.random() < 0.1),
                    opt_in,
                    created if opt_in else None,
                    rng.random() < 0.2,
                    created + timedelta(days=30) if erased else None,
                    created,
                    created,
                )
            )
            journeys.append(self._journey(lead_id, funnel_id, origin_id, created, stamp))
            if rng.random() < SECOND_JOURNEY_SHARE:
                other = rng.choice([f for f in self.f.funnel_ids if f != funnel_id])
                later = min(stamp + rng.uniform(0, 90 * 86400), self.end)
                journeys.append(
                    self._journey(
                        lead_id,
                        other,
                        rng.choice(self.f.origin_ids[other]),
                        datetime.fromtimestamp(later, UTC),
                        later,
                    )
                )
            if len(leads) == BATCH:
                yield leads, journeys
                leads, journeys = [], []
        if leads:
            yield leads, journeys

    def _journey(
        self, lead_id: str, funnel_id: str, origin_id: str, created: datetime, stamp: float
    ) -> tuple[Any, ...]:
        completed = self.rng.random() < 0.3
        return (
            _id("jrn", int(stamp * 1000), self.rng),
            self.f.workspace_id,
            lead_id,
            funnel_id,
            origin_id,
            "completed" if completed else "active",
            secrets.token_urlsafe(32),
            created + timedelta(days=7),
            created + timedelta(days=3) if completed else None,
            created,
            created,
        )


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _postgres_value(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


class _Writer:
    """Bulk inserts through the DBAPI connection: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self) -> None:
        self.raw = db.engine.raw_connection()
        self.dialect = db.engine.dialect.name
        if self.dialect == "sqlite":
            cursor = self.raw.cursor()
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-1000000")  # 1 GB: index pages stay in memory
            cursor.close()

    def write(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        cursor = self.raw.cursor()
        if self.dialect == "sqlite":
            marks = ", ".join("?" for _ in columns)
            cursor.execute("BEGIN")
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                [tuple(_sqlite_value(v) for v in row) for row in rows],
            )
            cursor.execute("COMMIT")
        else:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(tuple(_postgres_value(v) for v in row))
            self.raw.commit()
        cursor.close()

    def finish(self) -> None:
        cursor = self.raw.cursor()
        if self.dialect == "sqlite":
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            self.raw.commit()
            self.raw.driver_connection.autocommit = True
            cursor.execute("VACUUM ANALYZE leads")  # what autovacuum does after a bulk load
            cursor.execute("VACUUM ANALYZE journeys")
            self.raw.driver_connection.autocommit = False
        cursor.close()
        self.raw.close()


def seed(fixtures: Fixtures, total: int, seed_value: int = 20261122) -> dict[str, float]:
    """Insert `total` leads with their journeys; returns seconds spent per phase."""
    timings = {"generate": 0.0, "leads": 0.0, "journeys": 0.0}
    writer = _Writer()
    generator = _Generator(fixtures, total, seed_value)
    started = time.perf_counter()
    done = 0
    for leads, journeys in generator.batches():
        timings["generate"] += time.perf_counter() - started
        started = time.perf_counter()
        writer.write("leads", LEAD_COLUMNS, leads)
        timings["leads"] += time.perf_counter() - started
        started = time.perf_counter()
        writer.write("journeys", JOURNEY_COLUMNS, journeys)
        timings["journeys"] += time.perf_counter() - started
        done += len(leads)
        if done % 100_000 == 0:
            print(f"  seeded {done:,} leads", flush=True)
        started = time.perf_counter()
    started = time.perf_counter()
    writer.finish()
    timings["vacuum/checkpoint"] = time.perf_counter() - started
    return timings
