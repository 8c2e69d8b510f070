"""Demo data: a municipality, one citizen per language with a few months of history, staff.

All names, phone numbers and e-mails are made up (numbers in the 2000 00xx range,
e-mails at example.org, CPR numbers invented; one has no valid modulus-11 check digit).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, time, timedelta

import sqlalchemy as sa

from .activities.models import (
    Activity,
    ActivityKind,
    ApplicationMethod,
    ApplicationStatus,
    Channel,
    PlanTag,
    RecordState,
)
from .auth.models import Municipality, Role, User
from .cafes.models import Cafe
from .citizens import cpr
from .citizens.models import BenefitGroup, Exemption, LegalBasis
from .citizens.services import new_profile
from .core.clock import today
from .extensions import db
from .models_base import utcnow
from .record.models import RecordGatewayKind, RecordSettings


@dataclass(frozen=True)
class DemoCitizen:
    name: str
    phone: str
    email: str
    language: str
    group: BenefitGroup
    this_month: int  # applications this month → smiley state
    cpr: str | None  # made up; None shows the "waiting for CPR" state


DEMO_CITIZENS = (
    DemoCitizen("Mette Hansen", "+4520000001", "mette@example.org", "da",
                BenefitGroup.KONTANTHJAELP, 7, "2208993340"),
    DemoCitizen("Олена Коваленко", "+4520000002", "olena@example.org", "uk",
                BenefitGroup.SHO, 3, "0703851234"),  # no valid modulus-11 check digit
    DemoCitizen("أحمد الخطيب", "+4520000003", "ahmad@example.org", "ar",
                BenefitGroup.KONTANTHJAELP, 0, None),
    DemoCitizen("John Smith", "+4520000004", "john@example.org", "en",
                BenefitGroup.DAGPENGE, 2, "1402921235"),
)
# For the caseworker's work list and figures: one citizen exempt from registering (the
# exemption ends within 14 days, so it shows as ending soon) and one quiet for weeks (red).
DEMO_CASELOAD = (
    DemoCitizen("Leyla Demir", "+4520000005", "leyla@example.org", "da",
                BenefitGroup.KONTANTHJAELP, 0, None),
    DemoCitizen("Іван Петренко", "+4520000006", "ivan@example.org", "uk",
                BenefitGroup.SHO, 0, None),
)
DEMO_STAFF = (
    ("Hanne Jobcafé", "hanne@example.org", Role.HELPER),
    ("Karsten Sagsbehandler", "karsten@example.org", Role.CASEWORKER),
    ("Anna Administrator", "anna@example.org", Role.ADMIN),
)
# (name, place, weekday 0 = Monday, opens, closes, languages spoken)
DEMO_CAFES = (
    ("Jobcafé Biblioteket", "Hovedbiblioteket, Torvet 1", 1, time(10), time(13), "da,uk,en"),
    ("Jobcafé Borgerservice", "Borgerservice, Rådhuspladsen 2", 3, time(13), time(16), "da,ar"),
)
EMPLOYERS = ("Netto", "Rema 1000", "ISS Facility Services", "Arla Foods", "Novo Nordisk",
             "DSB", "Region Hovedstaden", "Bilka", "Føtex", "Danish Crown", "Coop", "Lidl")
TITLES = ("Butiksmedarbejder", "Lagermedarbejder", "Rengøringsassistent", "Chauffør",
          "Køkkenmedhjælper", "Pædagogmedhjælper", "Kassemedarbejder", "Produktionsmedarbejder")


def has_users() -> bool:
    return db.session.scalar(sa.select(sa.func.count(User.id))) > 0


def seed(rng: random.Random | None = None) -> None:
    """Create the demo data. Flushes (the command commits)."""
    rng = rng or random.Random(7)
    day = today()
    municipality = db.session.scalar(sa.select(Municipality).where(Municipality.code == "999"))
    if municipality is None:
        # Entries go to the reference record service (python -m devtools.reference_record).
        municipality = Municipality(code="999", name="Demo Kommune")
        db.session.add(municipality)
        db.session.flush()
        db.session.add(RecordSettings(municipality_id=municipality.id,
                                      gateway=RecordGatewayKind.HTTP))
    for name, email, role in DEMO_STAFF:
        if db.session.scalar(sa.select(User).where(User.email == email)) is None:
            db.session.add(User(name=name, email=email, role=role, language="da",
                                municipality_id=municipality.id))
    for name, place, weekday, opens, closes, languages in DEMO_CAFES:
        if db.session.scalar(sa.select(Cafe).where(Cafe.name == name)) is None:
            db.session.add(Cafe(municipality_id=municipality.id, name=name, place=place,
                                weekday=weekday, opens_at=opens, closes_at=closes,
                                languages=languages))
    for demo in DEMO_CITIZENS + DEMO_CASELOAD:
        if db.session.scalar(sa.select(User).where(User.phone == demo.phone)) is not None:
            continue
        # Citizens for some months already, so the figures have a history.
        user = User(name=demo.name, phone=demo.phone, email=demo.email, language=demo.language,
                    role=Role.CITIZEN, municipality_id=municipality.id,
                    created_at=utcnow() - timedelta(days=120))
        db.session.add(user)
        db.session.flush()
        profile = new_profile(user.id, demo.group)
        if demo.cpr:
            profile.cpr_encrypted = cpr.encrypt(demo.cpr)
            profile.cpr_index = cpr.blind_index(demo.cpr)
        db.session.add(profile)
        if demo in DEMO_CASELOAD:
            _caseload(user, day, demo is DEMO_CASELOAD[0])
        else:
            _history(user, day, demo.this_month, rng)
    db.session.flush()


def _caseload(user: User, day: date, exempt: bool) -> None:
    """One application long ago; the first also has an exemption that ends soon."""
    db.session.add(Activity(
        citizen_id=user.id, entered_by_id=user.id, kind=ActivityKind.APPLICATION,
        organisation="Netto", title="Butiksmedarbejder", occurred_on=day - timedelta(days=45),
        method=ApplicationMethod.ADVERTISED, status=ApplicationStatus.APPLIED,
        created_at=utcnow() - timedelta(days=45)))
    if exempt:
        caseworker = db.session.scalar(sa.select(User).where(User.role == Role.CASEWORKER,
                                                             User.municipality_id == user.municipality_id))
        db.session.add(Exemption(
            citizen_id=user.id, municipality_id=user.municipality_id,
            legal_basis=LegalBasis.LAS_75_5, starts_on=day - timedelta(days=20),
            ends_on=day + timedelta(days=10), granted_by_id=caseworker.id))


def _history(user: User, day: date, this_month: int, rng: random.Random) -> None:
    month_start = day.replace(day=1)
    days_so_far = (day - month_start).days + 1
    dates = [month_start + timedelta(days=rng.randrange(days_so_far)) for _ in range(this_month)]
    for back in range(1, 4):  # three earlier months
        dates += [month_start - timedelta(days=rng.randrange(1, 28) + 30 * (back - 1))
                  for _ in range(rng.randrange(3, 8))]
    statuses = list(ApplicationStatus)
    for when in sorted(dates):
        old = (day - when).days > 20
        db.session.add(Activity(
            citizen_id=user.id, entered_by_id=user.id, channel=Channel.WEB,
            kind=ActivityKind.APPLICATION, organisation=rng.choice(EMPLOYERS),
            title=rng.choice(TITLES), occurred_on=when,
            method=rng.choice(list(ApplicationMethod)),
            status=rng.choice(statuses) if old else ApplicationStatus.APPLIED,
            plan_tag=rng.choice(list(PlanTag)),
        ))
    db.session.add(Activity(
        citizen_id=user.id, entered_by_id=user.id, kind=ActivityKind.PLANNED_JOB,
        organisation=rng.choice(EMPLOYERS), title=rng.choice(TITLES),
        deadline=day + timedelta(days=9), plan_tag=PlanTag.B,
    ))
    db.session.add(Activity(
        citizen_id=user.id, entered_by_id=user.id, kind=ActivityKind.COFFEE_MEETING,
        organisation=rng.choice(EMPLOYERS), person="Lars Nielsen",
        occurred_on=day - timedelta(days=6), outcome="Ring igen om to uger.",
        follow_up_on=day,
    ))
    db.session.add(Activity(
        citizen_id=user.id, entered_by_id=user.id, kind=ActivityKind.NETWORK_LEAD,
        record_state=RecordState.LOCAL,
        person="Sara Jensen", relation="Nabo", organisation=rng.choice(EMPLOYERS),
        can_help_with="Kender lederen på lageret", next_step="Skriv en sms",
    ))
