"""Benchmark data, generated fast: caisses, structures, accounts, then a million requests with set-based SQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/extranet_bench .venv/bin/python bench/generate.py --reset
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python bench/generate.py --reset [--requests N]

Reference rows (2 caisses, structures, conventions, accounts, second factors) go through `bulk_create`; requests,
their status log, their MAS referrals, the object permissions of the agents in charge and the numbering sequences
are each one `INSERT … SELECT` over a generated series (PostgreSQL `generate_series`, SQLite a recursive CTE),
joined to small temporary tables (structures, agents, motifs, ~500 people with encrypted NIRs). Then 10 % of the
requests move on, as the workflow does (in progress → resolved, new → in progress, with their log rows and object
permissions), and the tables are vacuumed and analysed.

Every account's password is BENCH_PASSWORD. The accounts the load test signs in with (BENCH_LOGIN_EMAILS: the big
structure's technicien and gestionnaire, the caisses' agents) have their memberships (their rights) and a confirmed
TOTP device with the public key BENCH_TOTP_KEY (base32: BENCH_TOTP_KEY_BASE32), which any TOTP library turns into
the current code. The server under test must use the same SECRET_KEY (or NIR_ENCRYPTION_KEY / NIR_HASH_KEY) as this
script, or it cannot decrypt the NIRs.
"""

import argparse
import base64
import math
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo


def ensure_postgres_database(url):
    """`make bench` on a fresh machine: the benchmark's PostgreSQL databases are created when missing."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    server = {"host": config["HOST"] or None, "port": config["PORT"] or None, "user": config["USER"] or None}
    with psycopg.connect(dbname="postgres", password=config["PASSWORD"] or None, autocommit=True, **server) as db:
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone():
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "extranet.settings")
    # The development keys (bench/run.py serves with the same ones unless the environment gives others).
    os.environ.setdefault("DEBUG", "true")
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        ensure_postgres_database(os.environ["DATABASE_URL"])
    import django

    django.setup()

from django.apps import apps  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Permission  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from stdnum import luhn  # noqa: E402

from extranet.accounts import second_factor  # noqa: E402
from extranet.accounts.models import AuthenticatorApp, User, seal_totp_key  # noqa: E402
from extranet.core import crypto  # noqa: E402
from extranet.core.names import name_key  # noqa: E402
from requests.catalog import MAS_REFERRAL  # noqa: E402
from requests.mas import NOTICE_VERSION  # noqa: E402
from requests.models import (  # noqa: E402
    MasReferral,
    Message,
    NumberSequence,
    Request,
    RequestUserObjectPermission,
    StatusChange,
    Visit,
)
from requests.nir import nir_digest, nir_key  # noqa: E402
from structures.models import Caisse, CaisseMembership, Convention, Membership, Structure  # noqa: E402

BENCH_PASSWORD = "Bench-Partenaires-2026"  # noqa: S105 (public benchmark accounts)
BENCH_TOTP_KEY = b"demo-espace-partners".hex()  # the demo's public key (seed_demo), as TOTPDevice stores it
BENCH_TOTP_KEY_BASE32 = base64.b32encode(b"demo-espace-partners").decode()
EMAIL_DOMAIN = "bench.invalid"
BIG_TECHNICIEN = f"technicien.0000@{EMAIL_DOMAIN}"
BIG_GESTIONNAIRE = f"gestionnaire.0000@{EMAIL_DOMAIN}"
AGENTS_PER_CAISSE = 5
# (code, name, postal address): the demo's (seed_demo), so that the récapitulatif measured prints its address block.
CAISSES = [
    ("331", "CPAM de la Gironde", "Place de l'Europe\n105, rue Jules Ferry\n33085 Bordeaux Cedex"),
    ("421", "CPAM de la Loire", "3, avenue du Président Émile Loubet\n42027 Saint-Étienne Cedex 1"),
]
YEARS = 8
# The numbering gives a caisse 99,999 numbers a year (requests/models.py: YY + caisse code + 5 digits) and caisse 331
# gets about 60 % of the requests: past 1M (8 years of 125,000), the requests spread over more years instead.
REQUESTS_PER_YEAR = 125_000


def years_for(requests):
    years = max(YEARS, math.ceil(requests / REQUESTS_PER_YEAR))
    if years > 98:  # the number's year has two digits: a century would repeat numbers
        raise ValueError(f"At most {98 * REQUESTS_PER_YEAR:,} requests (the numbering's two-digit year).")
    return years


PEOPLE = 500
# Hash multiplier and modulus (Knuth): spreads kinds, motifs and statuses over n without following its order.
HASH_MUL, HASH_MOD = 2654435761, 4294967291
# The motifs of each kind, 20 slots each (weights); documents differ for structures habilitated or not.
MOTIFS = {
    "access_difficulty": [MAS_REFERRAL.motif]
    + ["complex_case"] * 6
    + ["rights"] * 6
    + ["emergency"] * 3
    + ["follow_up"] * 4,
    "contact": ["regulatory"] * 6 + ["services"] * 6 + ["technical"] * 5 + ["other"] * 3,
    "appointment": ["ame"] * 4 + ["sick_leave"] * 5 + ["c2s"] * 5 + ["prevention_exam"] * 4 + ["other"] * 2,
    "case_review": ["financial_aid"] * 5 + ["c2s"] * 6 + ["puma"] * 4 + ["ame_renewal"] * 3 + ["other"] * 2,
    "document": ["vaccination"] * 5 + ["mt_dents"] * 5 + ["screening"] * 5 + ["prevention_exam"] * 5,
    "document_habilitated": ["rights_certificate"] * 6
    + ["ceam"] * 4
    + ["daily_allowance_certificate"] * 4
    + ["vaccination", "mt_dents", "screening"] * 2,
}
# Kind by bucket (n's hash mod 100): contact 15 %, access difficulty 35 %, appointment 20 %, case review 20 %,
# document 10 %.
KIND_BUCKETS = [
    (15, "contact"),
    (50, "access_difficulty"),
    (70, "appointment"),
    (90, "case_review"),
    (100, "document"),
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Thomas",
    "Petit",
    "Robert",
    "Richard",
    "Durand",
    "Dubois",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Lefebvre",
    "Leroy",
    "Roux",
    "David",
    "Bertrand",
    "Morel",
    "Fournier",
    "Girard",
]
FEMALE_NAMES = ["Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Sophie", "Julie", "Camille", "Léa", "Emma"]
MALE_NAMES = ["Jean", "Philippe", "Michel", "Alain", "Nicolas", "Pierre", "Thomas", "Lucas", "Hugo", "Louis"]


def _details(kind, motif):
    """A small valid `details` per kind, as the kind's form writes it."""
    other = {"motif_other": "Précision du motif"} if motif == "other" else {}
    if kind == "contact":
        return {"channel": "phone", "availabilities": "Lundi matin", "message": "Question sur une démarche."}
    if kind == "access_difficulty":
        return {"description": "Rupture de droits depuis trois mois, la personne n'a plus de couverture."}
    if kind == "appointment":
        return {
            **other,
            "channel": "in_person",
            "availabilities": "Mardi après-midi",
            "needs_accompaniment": "no",
            "message": "",
        }
    if kind == "case_review":
        return {**other, "description": "Demande d'étude du dossier avec les justificatifs joints."}
    return {"comment": ""}


class Dialect:
    """The few SQL pieces that differ between PostgreSQL and SQLite."""

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"

    def series(self, count):
        """A `WITH` clause opening with seq(n), n = 1…count."""
        if self.postgres:
            return f"WITH seq(n) AS (SELECT generate_series(1::bigint, {int(count)}))"
        return f"WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {int(count)})"  # noqa: S608

    def timestamp(self, epoch):
        if self.postgres:
            return f"to_timestamp({epoch})"
        return f"strftime('%Y-%m-%d %H:%M:%S', {epoch}, 'unixepoch')"

    def pad(self, expression, width):
        if self.postgres:
            return f"lpad(({expression})::text, {width}, '0')"
        return f"printf('%0{width}d', {expression})"

    def least(self, a, b):
        return f"LEAST({a}, {b})" if self.postgres else f"MIN({a}, {b})"

    @property
    def random_uuid(self):
        """A new UUID per row, as Django stores a UUIDField (PostgreSQL's uuid; 32 hex digits on SQLite)."""
        return "gen_random_uuid()" if self.postgres else "lower(hex(randomblob(16)))"

    @property
    def json_type(self):
        return "jsonb" if self.postgres else "text"

    @property
    def date_type(self):
        return "date" if self.postgres else "text"


def table(model):
    return connection.ops.quote_name(model._meta.db_table)


class Clock:
    def __init__(self, out):
        self.out, self.start, self.steps = out, time.monotonic(), []

    def step(self, label, function, *args, **kwargs):
        begin = time.monotonic()
        result = function(*args, **kwargs)
        elapsed = time.monotonic() - begin
        self.steps.append((label, elapsed))
        self.out(f"  {label:<58} {elapsed:8.2f} s")
        return result

    def total(self):
        return time.monotonic() - self.start


# --- Reference data ---------------------------------------------------------------------------------------------


def siret(index):
    """A valid SIRET (Luhn key): SIREN 8 digits + key, establishment 00012, then the SIRET's own key."""
    siren8 = f"9{index:07d}"
    siren = siren8 + luhn.calc_check_digit(siren8)
    body = siren + "0001"
    return body + luhn.calc_check_digit(body)


def create_reference_data(structure_count, years):
    """Caisses (reused), structures with conventions, one technicien each (+ a gestionnaire for the big one), five
    agents per caisse; the login accounts get a TOTP device. Returns a dict of ids."""
    password = make_password(BENCH_PASSWORD)
    now = datetime.now(UTC)
    caisses = []
    for code, name, address in CAISSES:
        caisse, _ = Caisse.objects.get_or_create(code=code, defaults={"name": name, "postal_address": address})
        caisses.append(caisse)
    main_caisse, other_caisse = caisses
    kinds = [choice for choice, _ in Structure.Kind.choices]
    structures = Structure.objects.bulk_create(
        [
            Structure(
                name=f"Structure bench {i:04d}",
                siret=siret(i),
                kind=kinds[i % len(kinds)],
                headcount=5 + i % 40,
                insured_documents_habilitation=i % 4 == 2,
                created_at=now - timedelta(days=years * 366),
            )
            for i in range(structure_count)
        ],
        batch_size=500,
    )
    first_other = structure_count * 6 // 10  # structures 0–59 % with caisse 331, the rest with 421
    conventions = []
    signed = date.today() - timedelta(days=years * 366)
    for i, structure in enumerate(structures):
        own = main_caisse if i < first_other else other_caisse
        conventions.append(Convention(structure=structure, caisse=own, signed_on=signed))
        if i % 10 == 5:  # some work with both caisses
            other = other_caisse if own == main_caisse else main_caisse
            conventions.append(Convention(structure=structure, caisse=other, signed_on=signed))
    Convention.objects.bulk_create(conventions, batch_size=500)

    def user(email, first, last):
        return User(
            email=email,
            first_name=first,
            last_name=last,
            civility="mme",
            password=password,
            date_joined=now,
            last_login=now,
        )

    techniciens = User.objects.bulk_create(
        [user(f"technicien.{i:04d}@{EMAIL_DOMAIN}", "Technicien", f"Bench {i:04d}") for i in range(structure_count)],
        batch_size=500,
    )
    gestionnaire = User.objects.bulk_create([user(BIG_GESTIONNAIRE, "Gestionnaire", "Bench 0000")])[0]
    memberships = Membership.objects.bulk_create(
        [
            Membership(user=technicien, structure=structure, role=Membership.Role.TECHNICIEN, joined_at=now)
            for technicien, structure in zip(techniciens, structures, strict=True)
        ]
        + [Membership(user=gestionnaire, structure=structures[0], role=Membership.Role.GESTIONNAIRE, joined_at=now)],
        batch_size=500,
    )
    agents = {}
    caisse_memberships = []
    for caisse in caisses:
        users = User.objects.bulk_create(
            [
                user(f"agent.{caisse.code}.{j}@{EMAIL_DOMAIN}", "Agent", f"Bench {caisse.code} {j}")
                for j in range(AGENTS_PER_CAISSE)
            ]
        )
        agents[caisse.pk] = [u.pk for u in users]
        caisse_memberships += CaisseMembership.objects.bulk_create(
            [CaisseMembership(user=u, caisse=caisse, role=CaisseMembership.Role.AGENT, joined_at=now) for u in users]
        )
    login_memberships = [memberships[0], memberships[-1], *caisse_memberships]
    # bulk_create sends no pre_save: the key is sealed here, as every TOTP secret is stored.
    AuthenticatorApp.objects.bulk_create(
        [
            AuthenticatorApp(
                user_id=m.user_id,
                name=second_factor.METHOD_LABELS[second_factor.TOTP],
                key=seal_totp_key(BENCH_TOTP_KEY),
                confirmed=True,
            )
            for m in login_memberships
        ]
    )
    return {
        "caisses": caisses,
        "structures": [
            (
                s.pk,
                t.pk,
                (main_caisse if i < first_other else other_caisse).pk,
                (other_caisse if i < first_other else main_caisse).pk if i % 10 == 5 else None,
                s.insured_documents_habilitation,
            )
            for i, (s, t) in enumerate(zip(structures, techniciens, strict=True))
        ],
        "agents": agents,
        "big_structure": structures[0].pk,
    }


def make_people(count, seed=2026):
    """~500 people: civility, names, birth date and a valid NIR consistent with them, encrypted, with its digest."""
    rng = random.Random(seed)  # noqa: S311 (test data)
    people = []
    for i in range(count):
        female = i % 2 == 0
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 66))
        body = (
            f"{2 if female else 1}{born.year % 100:02d}{born.month:02d}{rng.choice(['33', '42', '75', '69'])}"
            f"{rng.randrange(1, 990):03d}{rng.randrange(1, 999):03d}"
        )
        nir = body + nir_key(body)
        last_name, first_name = LAST_NAMES[i % len(LAST_NAMES)], (FEMALE_NAMES if female else MALE_NAMES)[i // 2 % 10]
        people.append(
            (
                i,
                "mme" if female else "m",
                last_name,
                first_name,
                born.isoformat(),
                crypto.encrypt(nir),
                nir_digest(nir),
                name_key(last_name),
                name_key(first_name),
            )
        )
    return people


# --- Set-based requests -----------------------------------------------------------------------------------------


def _fill_temporary_tables(dialect, reference, people):
    import json

    with connection.cursor() as cursor:
        for name in ("bench_structure", "bench_agent", "bench_motif", "bench_person", "bench_move"):
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_structure (i integer PRIMARY KEY, structure_id bigint, author_id bigint, "
            "caisse_id bigint, second_caisse_id bigint, habilitated integer)"
        )
        cursor.executemany(
            "INSERT INTO bench_structure VALUES (%s, %s, %s, %s, %s, %s)",
            [(i, s, a, c, second or c, int(h)) for i, (s, a, c, second, h) in enumerate(reference["structures"])],
        )
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_agent (caisse_id bigint, j integer, user_id bigint, "
            "PRIMARY KEY (caisse_id, j))"
        )
        cursor.executemany(
            "INSERT INTO bench_agent VALUES (%s, %s, %s)",
            [(c, j, u) for c, users in reference["agents"].items() for j, u in enumerate(users)],
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE bench_motif (bucket integer, habilitated integer, slot integer, "
            f"kind varchar(20), motif varchar(40), details {dialect.json_type}, "
            "PRIMARY KEY (bucket, habilitated, slot))"
        )
        rows = []
        for bucket in range(100):
            kind = next(k for limit, k in KIND_BUCKETS if bucket < limit)
            for habilitated in (0, 1):
                motifs = MOTIFS["document_habilitated" if kind == "document" and habilitated else kind]
                for slot, motif in enumerate(motifs):
                    rows.append((bucket, habilitated, slot, kind, motif, json.dumps(_details(kind, motif))))
        cursor.executemany("INSERT INTO bench_motif VALUES (%s, %s, %s, %s, %s, %s)", rows)
        cursor.execute(
            f"CREATE TEMPORARY TABLE bench_person (i integer PRIMARY KEY, civility varchar(3), "
            f"last_name varchar(150), first_name varchar(150), birth_date {dialect.date_type}, "
            "nir varchar(100), digest varchar(64), last_name_key varchar(150), first_name_key varchar(150))"
        )
        cursor.executemany("INSERT INTO bench_person VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", people)


def _year_case(epoch_column, years):
    """The local (Europe/Paris) year of an epoch, as the numbering counts it: a CASE over the years' first
    seconds, computed here so SQLite needs no time zone support."""
    paris = ZoneInfo("Europe/Paris")
    parts = [
        f"WHEN {epoch_column} >= {int(datetime(y, 1, 1, tzinfo=paris).timestamp())} THEN {y}"
        for y in sorted(years, reverse=True)
    ]
    return f"CASE {' '.join(parts)} ELSE {min(years) - 1} END"


def insert_requests(dialect, reference, count, big_count, now):
    """One INSERT … SELECT: n → time, structure, caisse, kind, motif, person, status; numbers by caisse-year."""
    structure_count = len(reference["structures"])
    end = int(now.timestamp())
    start = end - years_for(count) * 365 * 86400
    span = end - start
    years = range(datetime.fromtimestamp(start, UTC).year - 1, now.year + 1)
    codes = " ".join(f"WHEN {c.pk} THEN '{int(c.code):03d}'" for c in reference["caisses"])
    # n's share of the big structure: exactly big_count values of n, spread evenly (n*B/N crosses an integer).
    big = f"(n * {int(big_count)}) / {int(count)} <> ((n - 1) * {int(big_count)}) / {int(count)}"
    others = f"(n - (n * {int(big_count)}) / {int(count)})"
    h = f"((n * {HASH_MUL}) % {HASH_MOD})"
    len_people = PEOPLE
    sql = f"""
        {dialect.series(count)}, base AS (
            SELECT n,
                   {start} + ((n - 1) * {span}) / {int(count)} + (n % 7) AS t,
                   CASE WHEN {big} THEN 0 ELSE 1 + {others} % {structure_count - 1} END AS si,
                   {h} AS h
            FROM seq
        ), placed AS (
            SELECT base.n, base.t, base.h, s.structure_id, s.author_id, s.habilitated,
                   CASE WHEN base.n % 5 = 0 THEN s.second_caisse_id ELSE s.caisse_id END AS caisse_id,
                   {_year_case("base.t", years)} AS year,
                   CASE WHEN (base.h / 2000) % 100 < 15 THEN 'new'
                        WHEN (base.h / 2000) % 100 < 30 THEN 'in_progress' ELSE 'resolved' END AS status
            FROM base JOIN bench_structure s ON s.i = base.si
        ), numbered AS (
            SELECT placed.*,
                   ROW_NUMBER() OVER (PARTITION BY caisse_id, year ORDER BY n) AS seq,
                   CASE WHEN status = 'new' THEN NULL
                        ELSE {dialect.least("t + 3600 + (h % 259200)", end)} END AS taken,
                   CASE WHEN status = 'resolved'
                        THEN {dialect.least("t + 7200 + (h % 259200) + (h / 7) % 864000", end)} END AS resolved
            FROM placed
        )
        INSERT INTO {table(Request)} (number, kind, motif, caisse_id, structure_id, author_id, created_at, status,
            details, assigned_to_id, taken_at, resolved_at, partner_news_at, purged_at, person_civility,
            person_last_name,
            person_first_name, person_birth_date, person_nir, person_nir_digest, person_phone, person_email,
            person_last_name_key, person_first_name_key, updated_at)
        SELECT {dialect.pad("numbered.year % 100", 2)} || CASE numbered.caisse_id {codes} END
                   || {dialect.pad("numbered.seq", 5)},
               m.kind, m.motif, numbered.caisse_id, numbered.structure_id, numbered.author_id,
               {dialect.timestamp("numbered.t")}, numbered.status, m.details,
               CASE WHEN numbered.status = 'new' THEN NULL ELSE a.user_id END,
               CASE WHEN numbered.taken IS NULL THEN NULL ELSE {dialect.timestamp("numbered.taken")} END,
               CASE WHEN numbered.resolved IS NULL THEN NULL ELSE {dialect.timestamp("numbered.resolved")} END,
               CASE WHEN numbered.taken IS NULL THEN NULL
                    ELSE {dialect.timestamp("COALESCE(numbered.resolved, numbered.taken)")} END,
               NULL,
               CASE WHEN m.kind = 'contact' THEN '' ELSE p.civility END,
               CASE WHEN m.kind = 'contact' THEN '' ELSE p.last_name END,
               CASE WHEN m.kind = 'contact' THEN '' ELSE p.first_name END,
               CASE WHEN m.kind = 'contact' THEN NULL ELSE p.birth_date END,
               CASE WHEN m.kind = 'contact' THEN '' ELSE p.nir END,
               CASE WHEN m.kind = 'contact' THEN '' ELSE p.digest END,
               '', '',
               CASE WHEN m.kind = 'contact' THEN '' ELSE p.last_name_key END,
               CASE WHEN m.kind = 'contact' THEN '' ELSE p.first_name_key END,
               {dialect.timestamp("COALESCE(numbered.resolved, numbered.taken, numbered.t)")}
        FROM numbered
        JOIN bench_motif m ON m.bucket = numbered.h % 100 AND m.habilitated = numbered.habilitated
             AND m.slot = (numbered.h / 100) % 20
        JOIN bench_person p ON p.i = (numbered.h / 200000 + numbered.n) % {len_people}
        JOIN bench_agent a ON a.caisse_id = numbered.caisse_id AND a.j = (numbered.h / 7) % {AGENTS_PER_CAISSE}
        ORDER BY numbered.n
    """  # noqa: S608 (table names from the models, every value an integer computed here)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.rowcount


def insert_status_log(dialect):
    """The deposit, take charge and resolution rows of every request, as the services write them."""
    changes, requests = table(StatusChange), table(Request)
    columns = f"INSERT INTO {changes} (request_id, from_status, to_status, by_id, at, assigned_to_id)"
    total = 0
    with connection.cursor() as cursor:
        for select in (
            f"SELECT id, '', 'new', author_id, created_at, NULL FROM {requests} ORDER BY id",  # noqa: S608
            f"SELECT id, 'new', 'in_progress', assigned_to_id, taken_at, assigned_to_id FROM {requests} "  # noqa: S608
            "WHERE taken_at IS NOT NULL ORDER BY id",
            f"SELECT id, 'in_progress', 'resolved', assigned_to_id, resolved_at, NULL FROM {requests} "  # noqa: S608
            "WHERE resolved_at IS NOT NULL ORDER BY id",
        ):
            cursor.execute(f"{columns} {select}")  # noqa: S608 (table names from the models)
            total += cursor.rowcount
    return total


def _resolve_permission_id():
    return Permission.objects.get(content_type__app_label="requests", codename="resolve_request").pk


def insert_resolve_permissions(dialect):
    """take_charge grants the agent in charge `resolve_request` on the request; resolve removes it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table(RequestUserObjectPermission)} (permission_id, user_id, content_object_id) "  # noqa: S608
            f"SELECT %s, assigned_to_id, id FROM {table(Request)} WHERE status = 'in_progress' ORDER BY id",
            [_resolve_permission_id()],
        )
        return cursor.rowcount


def insert_mas_referrals(dialect):
    """The referral form of each MAS referral request (consent signed, collected by the author at deposit)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table(MasReferral)} (request_id, referral_date, contexts, actions, action_other, cares,
                care_other, renunciation_duration, causes, cause_other, detector_name, detector_email,
                detector_structure, detector_phone, consent_mode, consent_collected_by_id, consent_collected_at,
                notice_version, consent_document_id, confirmation_letter_sent_at, confirmation_letter_sent_by_id)
            SELECT id, {"created_at::date" if dialect.postgres else "substr(created_at, 1, 10)"},
                %s, %s, '', %s, '', 'under_3_months', %s, '', 'Technicien Bench', %s, 'Structure bench', '',
                'signed', author_id, created_at, %s, NULL, NULL, NULL
            FROM {table(Request)} WHERE kind = %s AND motif = %s ORDER BY id""",  # noqa: S608 (tables: the models')
            [
                '["care_renunciation"]',
                '["c2s_application"]',
                '["pharmacy"]',
                '["out_of_pocket"]',
                f"technicien@{EMAIL_DOMAIN}",
                NOTICE_VERSION,
                MAS_REFERRAL.kind,
                MAS_REFERRAL.motif,
            ],
        )
        return cursor.rowcount


def insert_number_sequences(dialect):
    """Each caisse-year's sequence at its highest number, so that new deposits continue after it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table(NumberSequence)} (caisse_id, year, last_value) "  # noqa: S608 (model tables)
            f"SELECT caisse_id, 2000 + CAST(substr(number, 1, 2) AS integer), "
            f"MAX(CAST(substr(number, 6, 5) AS integer)) FROM {table(Request)} "
            "GROUP BY caisse_id, 2000 + CAST(substr(number, 1, 2) AS integer)"
        )
        return cursor.rowcount


def move_ten_percent(dialect, now):
    """10 % of the requests move on: a third of those in progress are resolved, then a third of the new ones are
    taken in charge by an agent of their caisse; log rows and `resolve_request` permissions follow."""
    requests, changes, perms = table(Request), table(StatusChange), table(RequestUserObjectPermission)
    at = connection.ops.adapt_datetimefield_value(now)
    permission = _resolve_permission_id()
    moved = 0
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_move")
        cursor.execute(
            f"CREATE TEMPORARY TABLE bench_move AS SELECT id, assigned_to_id FROM {requests} "  # noqa: S608
            "WHERE status = 'in_progress' AND id % 3 = 0"
        )
        cursor.execute("CREATE UNIQUE INDEX bench_move_id ON bench_move (id)")
        cursor.execute(
            f"UPDATE {requests} SET status = 'resolved', resolved_at = %s, partner_news_at = %s, "  # noqa: S608
            "updated_at = %s WHERE id IN (SELECT id FROM bench_move)",
            [at, at, at],
        )
        moved += cursor.rowcount
        cursor.execute(
            f"INSERT INTO {changes} (request_id, from_status, to_status, by_id, at, assigned_to_id) "  # noqa: S608
            "SELECT id, 'in_progress', 'resolved', assigned_to_id, %s, NULL FROM bench_move ORDER BY id",
            [at],
        )
        cursor.execute(
            f"DELETE FROM {perms} WHERE permission_id = %s "  # noqa: S608
            "AND content_object_id IN (SELECT id FROM bench_move)",
            [permission],
        )
        cursor.execute("DROP TABLE bench_move")
        cursor.execute(
            f"CREATE TEMPORARY TABLE bench_move AS SELECT r.id, a.user_id FROM {requests} r "  # noqa: S608
            f"JOIN bench_agent a ON a.caisse_id = r.caisse_id AND a.j = r.id % {AGENTS_PER_CAISSE} "
            "WHERE r.status = 'new' AND r.id % 3 = 1"
        )
        cursor.execute("CREATE UNIQUE INDEX bench_move_id ON bench_move (id)")
        cursor.execute(
            f"UPDATE {requests} SET status = 'in_progress', taken_at = %s, partner_news_at = %s, "  # noqa: S608
            "updated_at = %s, assigned_to_id = (SELECT m.user_id FROM bench_move m WHERE m.id = "
            f"{requests}.id) WHERE id IN (SELECT id FROM bench_move)",
            [at, at, at],
        )
        moved += cursor.rowcount
        cursor.execute(
            f"INSERT INTO {changes} (request_id, from_status, to_status, by_id, at, assigned_to_id) "  # noqa: S608
            "SELECT id, 'new', 'in_progress', user_id, %s, user_id FROM bench_move ORDER BY id",
            [at],
        )
        cursor.execute(
            f"INSERT INTO {perms} (permission_id, user_id, content_object_id) "  # noqa: S608
            "SELECT %s, user_id, id FROM bench_move ORDER BY id",
            [permission],
        )
        cursor.execute("DROP TABLE bench_move")
    return moved


def insert_conversations(dialect, now):
    """« Du nouveau » as it stands in a live service (requests/news.py; every status change is news for the
    structure, written with the status): one request in ten in progress had a question from its agent and the
    structure's reply (news for the caisse), each a message; the agents in charge have seen half of those replies,
    and each structure's technicien has opened nine requests in ten of their structure since."""
    requests, messages, visits = table(Request), table(Message), table(Visit)
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        # Every statement here has parameters: "%%" is the modulo for both drivers.
        where = "WHERE status = 'in_progress' AND id %% 10 = 3"
        replied = f"FROM {requests} {where}"
        for side, author, body in (
            ("caisse", "assigned_to_id", "Pouvez-vous nous transmettre le justificatif ?"),
            ("partner", "author_id", "Voici le justificatif demandé."),
        ):
            cursor.execute(
                f"INSERT INTO {messages} (public_id, request_id, author_id, side, is_internal, is_answer, body, "  # noqa: S608
                f"created_at) SELECT {dialect.random_uuid}, id, {author}, %s, %s, %s, %s, taken_at {replied} "
                "ORDER BY id",
                [side, False, False, body],
            )
        cursor.execute(f"UPDATE {requests} SET caisse_news_at = taken_at {where}", [])  # noqa: S608
        news = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {visits} (user_id, request_id, seen_at) "  # noqa: S608
            f"SELECT assigned_to_id, id, %s {replied} AND id %% 20 = 3 ORDER BY id",
            [at],
        )
        cursor.execute(
            f"INSERT INTO {visits} (user_id, request_id, seen_at) "  # noqa: S608
            f"SELECT author_id, id, %s FROM {requests} WHERE id %% 10 <> 0 ORDER BY id",
            [at],
        )
    return news


def drop_temporary_tables():
    with connection.cursor() as cursor:
        for name in ("bench_structure", "bench_agent", "bench_motif", "bench_person", "bench_move"):
            cursor.execute(f"DROP TABLE IF EXISTS {name}")


def analyse(dialect):
    with connection.cursor() as cursor:
        if dialect.postgres:
            for model in (
                Request,
                StatusChange,
                RequestUserObjectPermission,
                MasReferral,
                NumberSequence,
                Structure,
                Convention,
                Membership,
                User,
            ):
                # VACUUM too, as autovacuum does on a live database: with the visibility map set, PostgreSQL counts
                # and lists from the indexes alone instead of visiting one heap page per row of a structure. Not
                # inside a transaction (the suite's tests run the generator in theirs), where PostgreSQL refuses it.
                vacuum = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
                cursor.execute(f"{vacuum} {table(model)}")
        else:
            cursor.execute("ANALYZE")


# --- Orchestration ----------------------------------------------------------------------------------------------


DATA_APPS = [
    "requests",
    "structures",
    "accounts",
    "guardian",
    "otp_totp",
    "otp_static",
    "otp_email",
    "admin",
    "audit",
    "notifications",
    "api",
]


def data_tables():
    """Every table of the data apps but the caisses (reused), children first is not needed: see reset()."""
    names = []
    for label in DATA_APPS:
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        for model in config.get_models(include_auto_created=True):
            if model._meta.managed and not model._meta.proxy and model is not Caisse:
                names.append(model._meta.db_table)
    return names


def reset():
    """Empties the data (benchmark database only): requests, structures, accounts and everything that points to
    them. Caisses stay and are reused."""
    names = data_tables()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"TRUNCATE {', '.join(connection.ops.quote_name(n) for n in names)} RESTART IDENTITY CASCADE"
            )
            return
        cursor.execute("PRAGMA foreign_keys = OFF")
        for name in names:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(name)}")  # noqa: S608 (model table names)
        cursor.execute("PRAGMA foreign_keys = ON")


def generate(*, requests=1_000_000, structures=1000, big=10_000, out=print):
    """Loads everything into the current database (which must have no request). Returns the row counts."""
    if structures < 2 or big >= requests:
        raise ValueError("At least 2 structures, and fewer requests in the big structure than in all.")
    dialect = Dialect()
    clock = Clock(out)
    now = datetime.now(UTC).replace(microsecond=0)
    with transaction.atomic():
        if dialect.postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        reference = clock.step(
            "caisses, structures, conventions, accounts", create_reference_data, structures, years_for(requests)
        )
        people = clock.step(f"{PEOPLE} people with encrypted NIRs", make_people, PEOPLE)
        clock.step("temporary tables", _fill_temporary_tables, dialect, reference, people)
        clock.step(f"requests ({requests:,})", insert_requests, dialect, reference, requests, big, now)
        clock.step("status log (deposit, take charge, resolution)", insert_status_log, dialect)
        clock.step("resolve_request permissions of the agents in charge", insert_resolve_permissions, dialect)
        clock.step("MAS referral forms", insert_mas_referrals, dialect)
        clock.step("number sequences", insert_number_sequences, dialect)
    with transaction.atomic():
        moved = clock.step(
            "10 % of the requests move on (workflow)", move_ten_percent, dialect, now + timedelta(seconds=1)
        )
        clock.step("news, conversations and visits", insert_conversations, dialect, now + timedelta(seconds=2))
        clock.step("drop temporary tables", drop_temporary_tables)
    clock.step("vacuum and analyse", analyse, dialect)
    counts = {
        "caisses": Caisse.objects.count(),
        "structures": Structure.objects.count(),
        "conventions": Convention.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "caisse memberships": CaisseMembership.objects.count(),
        "requests": Request.objects.count(),
        "requests of the big structure": Request.objects.filter(structure_id=reference["big_structure"]).count(),
        "status changes": StatusChange.objects.count(),
        "resolve_request permissions": RequestUserObjectPermission.objects.count(),
        "MAS referrals": MasReferral.objects.count(),
        "number sequences": NumberSequence.objects.count(),
        "messages": Message.objects.count(),
        "visits": Visit.objects.count(),
        "moved by the workflow step": moved,
    }
    for status in ("new", "in_progress", "resolved"):
        counts[f"requests {status}"] = Request.objects.filter(status=status).count()
    out(f"  {'total':<58} {clock.total():8.2f} s")
    for name, value in counts.items():
        out(f"  {name:<40} {value:>12,}")
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--structures", type=int, default=1000)
    parser.add_argument("--big", type=int, default=10_000, help="requests of the one big structure")
    parser.add_argument("--reset", action="store_true", help="empty the benchmark data first")
    args = parser.parse_args(argv)
    from django.core.management import call_command

    settings_db = connection.settings_dict
    print(f"Database: {connection.vendor} {settings_db['NAME']}")
    begin = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"  {'migrate':<58} {time.monotonic() - begin:8.2f} s")
    if Request.objects.exists() or Structure.objects.exists() or User.objects.exists():
        if not args.reset:
            sys.exit("This database already has data: run again with --reset to empty it (benchmark databases only).")
        begin = time.monotonic()
        reset()
        print(f"  {'reset':<58} {time.monotonic() - begin:8.2f} s")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("PRAGMA cache_size = -200000")
            cursor.execute("PRAGMA temp_store = MEMORY")
    generate(requests=args.requests, structures=args.structures, big=args.big)
    print(f"Accounts: password {BENCH_PASSWORD!r}; TOTP key (base32) {BENCH_TOTP_KEY_BASE32}")
    print(f"  {BIG_TECHNICIEN}, {BIG_GESTIONNAIRE}, agent.331.0-4@{EMAIL_DOMAIN}, agent.421.0-4@{EMAIL_DOMAIN}")


if __name__ == "__main__":
    main()
