"""Reminder rules, planning times, settings and subscriptions (services flush, never commit).

The rules help rather than nag:
* at most one message a day per citizen: everything due that day is merged into one
  (``Reminder`` is unique per citizen and Danish day);
* never between 20:00 and 09:00 Danish time: planned then, it is due at 09:00, and its TTL
  ends at 20:00 so an offline phone does not show it in the evening either;
* nothing once the month's goal is met, except an entry the record refused, which needs
  the citizen's action to reach the record at all.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import force_locale, format_date, gettext, ngettext

from ..activities.models import Activity, ActivityKind
from ..auth.models import User
from ..citizens import exemptions
from ..citizens.models import CitizenProfile, RequirementPeriod
from ..core.clock import DK
from ..extensions import db
from ..models_base import utcnow
from ..progress import services as progress
from ..record import services as record
from .models import (
    DeliveryState,
    PushDelivery,
    PushService,
    PushSubscription,
    Reminder,
    ReminderKind,
    ReminderSettings,
)
from .vapid import b64url_decode

QUIET_FROM = time(20, 0)
QUIET_UNTIL = time(9, 0)
DEADLINE_AHEAD = timedelta(days=2)
INACTIVE_DAYS = 21  # STAR writes after 30 days without activity
REFUSED_EVERY = timedelta(days=7)
UNCONFIRMED_DAYS = 60
TEST_TTL = timedelta(hours=1)
PAUSE = timedelta(days=7)
# Merged reminders are listed in this order; the first names the Topic and the screen.
PRIORITY = (ReminderKind.REFUSED, ReminderKind.FOLLOW_UP, ReminderKind.DEADLINE,
            ReminderKind.CAFE, ReminderKind.BEHIND, ReminderKind.INACTIVE)
SETTING_KINDS = PRIORITY
URGENCY = {ReminderKind.REFUSED: "normal", ReminderKind.FOLLOW_UP: "normal",
           ReminderKind.DEADLINE: "normal", ReminderKind.CAFE: "normal",
           ReminderKind.BEHIND: "low", ReminderKind.INACTIVE: "low", ReminderKind.TEST: "high"}


# --- Danish time ------------------------------------------------------------------------
def dk_time(now_utc: datetime) -> datetime:
    """A naive UTC time (as stored) in Danish time."""
    return now_utc.replace(tzinfo=UTC).astimezone(DK)


def utc_at(day: date, at: time) -> datetime:
    """``at`` o'clock Danish time on ``day``, as a naive UTC time (daylight saving included)."""
    return datetime.combine(day, at, tzinfo=DK).astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Window:
    day: date  # the Danish day the reminder is for
    due_at: datetime  # UTC; never inside quiet hours
    expires_at: datetime  # UTC; 20:00 that day


def planning_window(now_utc: datetime) -> Window:
    """The day a reminder planned now is for, and when it may be sent: from 20:00 on it is
    planned for the next morning, before 09:00 it waits until 09:00."""
    local = dk_time(now_utc)
    day = local.date()
    if local.time() >= QUIET_FROM:
        day += timedelta(days=1)
    due = max(now_utc, utc_at(day, QUIET_UNTIL))
    return Window(day, due, utc_at(day, QUIET_FROM))


def in_quiet_hours(now_utc: datetime) -> bool:
    t = dk_time(now_utc).time()
    return t >= QUIET_FROM or t < QUIET_UNTIL


# --- Rules ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Due:
    kind: ReminderKind
    num: int
    url: str
    until: date | None = None  # "behind": the period's last day


def is_exempt(citizen_id: int, day: date) -> bool:
    """Whether the citizen is exempted from registering job searches on ``day`` (LAS § 75
    stk. 5; Integrationsloven § 26 a stk. 4; citizens/exemptions.py). An exempted citizen
    gets no "behind" and no "no entries" reminder."""
    return exemptions.is_exempt(citizen_id, day)


def cafe_sessions_tomorrow(citizen_id: int, day: date) -> int:
    """Job-café sessions on the day after ``day`` at a café the citizen came to before.
    Job-café sessions arrive with issue 11; until then there are none."""
    return 0


def _live(citizen_id: int) -> tuple[sa.ColumnElement[bool], ...]:
    return (Activity.citizen_id == citizen_id, Activity.deleted_at.is_(None))


def _follow_ups(citizen_id: int, day: date) -> list[int]:
    return list(db.session.scalars(
        sa.select(Activity.id).where(*_live(citizen_id), Activity.follow_up_on == day,
                                     Activity.followed_up_at.is_(None),
                                     Activity.converted_to_id.is_(None))
        .order_by(Activity.id)))


def _deadlines(citizen_id: int, day: date) -> list[int]:
    return list(db.session.scalars(
        sa.select(Activity.id).where(*_live(citizen_id), Activity.kind == ActivityKind.PLANNED_JOB,
                                     Activity.converted_to_id.is_(None),
                                     Activity.deadline == day + DEADLINE_AHEAD)
        .order_by(Activity.id)))


def halfway_day(day: date) -> date:
    """The day the month is half over: the 14th of a 28-day February, the 16th of a
    31-day month."""
    start, end = progress.month_bounds(day)
    return start + timedelta(days=((end - start).days + 2) // 2 - 1)


def behind_by(profile: CitizenProfile, day: date) -> tuple[int, date] | None:
    """On the month's halfway day: how many job searches are still needed for green by the
    month's end, when the citizen is behind (fewer than half the month's target so far).
    None on other days, when on track or when the goal is met."""
    if day != halfway_day(day):
        return None
    p = progress.progress_for(profile, day)
    if p.left == 0:
        return None
    if profile.requirement_period == RequirementPeriod.MONTH:
        on_track = p.count >= math.ceil(p.target / 2)
    else:
        on_track = p.smiley == progress.Smiley.GREEN
    return None if on_track else (p.left, p.period_end)


def days_without_entries(user: User, day: date) -> int:
    last = db.session.scalar(sa.select(sa.func.max(Activity.created_at))
                             .where(Activity.citizen_id == user.id))
    since = dk_time(last or user.created_at).date()
    return (day - since).days


def due_reminders(user: User, settings: ReminderSettings | None, day: date) -> list[Due]:
    """What is due for this citizen on ``day``, in PRIORITY order, after their settings,
    their pause, exemptions and the month's goal."""
    if settings is not None and settings.paused_until is not None and day <= settings.paused_until:
        return []
    wanted = {k for k in SETTING_KINDS if settings is None or getattr(settings, _field(k))}
    profile = user.profile
    goal_met = profile is not None and progress.progress_for(profile, day).left == 0
    exempt = is_exempt(user.id, day)
    found: list[Due] = []
    for kind in PRIORITY:
        if kind not in wanted or (goal_met and kind != ReminderKind.REFUSED):
            continue
        due = RULES[kind](user, profile, day, exempt)
        if due is not None:
            found.append(due)
    return found


def _field(kind: ReminderKind) -> str:
    return kind.value.replace("-", "_")


Rule = Callable[[User, CitizenProfile | None, date, bool], Due | None]


def _rule_follow_up(user: User, _p: CitizenProfile | None, day: date, _e: bool) -> Due | None:
    ids = _follow_ups(user.id, day)
    if not ids:
        return None
    url = f"/activities/{ids[0]}/then/coffee_meeting" if len(ids) == 1 else "/"
    return Due(ReminderKind.FOLLOW_UP, len(ids), url)


def _rule_deadline(user: User, _p: CitizenProfile | None, day: date, _e: bool) -> Due | None:
    ids = _deadlines(user.id, day)
    if not ids:
        return None
    return Due(ReminderKind.DEADLINE, len(ids), f"/activities/{ids[0]}/edit" if len(ids) == 1 else "/")


def _rule_behind(user: User, profile: CitizenProfile | None, day: date, exempt: bool) -> Due | None:
    if exempt or profile is None:
        return None
    behind = behind_by(profile, day)
    return Due(ReminderKind.BEHIND, behind[0], "/", behind[1]) if behind else None


def _rule_inactive(user: User, _p: CitizenProfile | None, day: date, exempt: bool) -> Due | None:
    if exempt or days_without_entries(user, day) != INACTIVE_DAYS:
        return None
    return Due(ReminderKind.INACTIVE, INACTIVE_DAYS, "/")


def _rule_cafe(user: User, _p: CitizenProfile | None, day: date, _e: bool) -> Due | None:
    n = cafe_sessions_tomorrow(user.id, day)
    return Due(ReminderKind.CAFE, n, "/") if n else None


def _rule_refused(user: User, _p: CitizenProfile | None, day: date, _e: bool) -> Due | None:
    failed = record.citizen_sync(user.id).failed
    if not failed:
        return None
    recent = db.session.scalar(sa.select(sa.func.count(Reminder.id)).where(
        Reminder.user_id == user.id, Reminder.kinds.contains(ReminderKind.REFUSED.value),
        Reminder.day > day - REFUSED_EVERY))
    return None if recent else Due(ReminderKind.REFUSED, failed, "/activities/history")


RULES: dict[ReminderKind, Rule] = {
    ReminderKind.FOLLOW_UP: _rule_follow_up, ReminderKind.DEADLINE: _rule_deadline,
    ReminderKind.BEHIND: _rule_behind, ReminderKind.INACTIVE: _rule_inactive,
    ReminderKind.CAFE: _rule_cafe, ReminderKind.REFUSED: _rule_refused,
}


# --- Texts ------------------------------------------------------------------------------
def sentence(due: Due) -> str:
    """One reminder in the current locale (call inside ``force_locale``)."""
    n = due.num
    if due.kind == ReminderKind.FOLLOW_UP:
        return ngettext("You planned %(num)s follow-up for today.",
                        "You planned %(num)s follow-ups for today.", n)
    if due.kind == ReminderKind.DEADLINE:
        return ngettext("%(num)s job you want to apply for closes in two days.",
                        "%(num)s jobs you want to apply for close in two days.", n)
    if due.kind == ReminderKind.BEHIND:
        until = format_date(due.until, "d MMMM") if due.until else ""
        return ngettext("%(num)s more job search to reach green by %(date)s. You can do it.",
                        "%(num)s more job searches to reach green by %(date)s. You can do it.",
                        n, date=until)
    if due.kind == ReminderKind.INACTIVE:
        return ngettext("It is %(num)s day since your last entry. Everything you do counts.",
                        "It is %(num)s days since your last entry. Everything you do counts.", n)
    if due.kind == ReminderKind.CAFE:
        return gettext("There is a job café tomorrow. You are welcome.")
    if due.kind == ReminderKind.REFUSED:
        return ngettext("%(num)s entry did not reach Joblog. Have a look at what to change.",
                        "%(num)s entries did not reach Joblog. Have a look at what to change.", n)
    return gettext("This is a test. Your reminders will look like this.")


def payload(language: str, reminder_id: int, dues: list[Due]) -> str:
    """The message a device gets: small, in the citizen's language, nothing personal beyond
    counts (no CPR number, benefit or exemption details)."""
    with force_locale(language):
        data = {"id": reminder_id, "lang": language, "title": gettext("My job search"),
                "body": "\n".join(sentence(d) for d in dues),
                "url": dues[0].url if len(dues) == 1 else "/",
                "tag": dues[0].kind.value}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


# --- Planning ---------------------------------------------------------------------------
def subscriptions_of(user_id: int) -> list[PushSubscription]:
    return list(db.session.scalars(sa.select(PushSubscription)
                                   .where(PushSubscription.user_id == user_id)
                                   .order_by(PushSubscription.id)))


def add_reminder(user: User, day: date | None, dues: list[Due], due_at: datetime,
                 expires_at: datetime) -> Reminder | None:
    """The reminder and one delivery per device; None when the citizen has no device, or
    already has the day's reminder (the once-a-day limit)."""
    subscriptions = subscriptions_of(user.id)
    if not subscriptions or not dues:
        return None
    first = dues[0].kind
    reminder = Reminder(user_id=user.id, day=day, kinds=",".join(d.kind.value for d in dues),
                        topic=first.value, urgency=URGENCY[first], payload="{}", due_at=due_at,
                        expires_at=expires_at)
    try:
        with db.session.begin_nested():
            db.session.add(reminder)
            db.session.flush()
    except sa.exc.IntegrityError:
        return None  # another planner made the day's reminder first
    reminder.payload = payload(user.language, reminder.id, dues)
    db.session.add_all(PushDelivery(reminder_id=reminder.id, subscription_id=s.id,
                                    next_attempt_at=due_at) for s in subscriptions)
    db.session.flush()
    return reminder


def plan_for(user: User, now_utc: datetime) -> Reminder | None:
    """Plan the citizen's reminder for the day the planning window says, if anything is due."""
    window = planning_window(now_utc)
    exists = db.session.scalar(sa.select(Reminder.id).where(Reminder.user_id == user.id,
                                                            Reminder.day == window.day))
    if exists:
        return None
    dues = due_reminders(user, db.session.get(ReminderSettings, user.id), window.day)
    return add_reminder(user, window.day, dues, window.due_at, window.expires_at)


def send_test(user: User, now_utc: datetime) -> Reminder | None:
    """"Send me a test": now, to every device, whatever the hour and the daily limit."""
    return add_reminder(user, None, [Due(ReminderKind.TEST, 1, "/reminders")], now_utc,
                        now_utc + TEST_TTL)


# --- Settings ---------------------------------------------------------------------------
def settings_for(user_id: int) -> ReminderSettings:
    settings = db.session.get(ReminderSettings, user_id)
    if settings is None:
        settings = ReminderSettings(user_id=user_id, follow_up=True, deadline=True, behind=True,
                                    inactive=True, cafe=True, refused=True)
        db.session.add(settings)
        db.session.flush()
    return settings


def set_kinds(user_id: int, wanted: set[ReminderKind]) -> ReminderSettings:
    settings = settings_for(user_id)
    for kind in SETTING_KINDS:
        setattr(settings, _field(kind), kind in wanted)
    db.session.flush()
    return settings


def kinds_on(settings: ReminderSettings) -> set[ReminderKind]:
    return {k for k in SETTING_KINDS if getattr(settings, _field(k))}


def pause(user_id: int, today: date) -> date:
    settings = settings_for(user_id)
    settings.paused_until = today + PAUSE - timedelta(days=1)
    db.session.flush()
    return settings.paused_until


def resume(user_id: int) -> None:
    settings_for(user_id).paused_until = None
    db.session.flush()


# --- Subscriptions ----------------------------------------------------------------------
class InvalidSubscription(ValueError):
    pass


def _key(value: object, length: int, point: bool = False) -> str:
    if not isinstance(value, str) or len(value) > 200:
        raise InvalidSubscription("key")
    try:
        raw = b64url_decode(value)
    except ValueError as exc:
        raise InvalidSubscription("key") from exc
    if len(raw) != length or (point and raw[0] != 4):
        raise InvalidSubscription("key")
    if point:
        from cryptography.hazmat.primitives.asymmetric import ec

        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError as exc:
            raise InvalidSubscription("key") from exc
    return value.rstrip("=")


def parse_subscription(data: object, allow_http: bool = False) -> tuple[str, str, str, str]:
    """(endpoint, origin, p256dh, auth) from a PushSubscription's JSON, or InvalidSubscription."""
    if not isinstance(data, dict):
        raise InvalidSubscription("shape")
    endpoint, keys = data.get("endpoint"), data.get("keys")
    if not isinstance(endpoint, str) or not isinstance(keys, dict) or len(endpoint) > 1000:
        raise InvalidSubscription("shape")
    parts = urlsplit(endpoint)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not parts.hostname or parts.username or parts.password:
        raise InvalidSubscription("endpoint")
    origin = f"{parts.scheme}://{parts.netloc}"
    return endpoint, origin, _key(keys.get("p256dh"), 65, point=True), _key(keys.get("auth"), 16)


def save_subscription(user_id: int, data: object, device: str, now_utc: datetime,
                      allow_http: bool = False) -> PushSubscription:
    """Add or confirm this device's subscription. An endpoint belongs to one browser: when
    another citizen logs in on it, the subscription moves to them."""
    endpoint, origin, p256dh, auth = parse_subscription(data, allow_http)
    sub = db.session.scalar(sa.select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if sub is None:
        sub = PushSubscription(user_id=user_id, endpoint=endpoint, origin=origin, p256dh=p256dh,
                               auth=auth, device=device[:60], created_at=now_utc,
                               confirmed_at=now_utc)
        db.session.add(sub)
    else:
        sub.user_id, sub.p256dh, sub.auth, sub.device = user_id, p256dh, auth, device[:60]
        sub.confirmed_at = now_utc
    settings_for(user_id)
    db.session.flush()
    return sub


def own_subscription(user_id: int, subscription_id: int) -> PushSubscription | None:
    sub = db.session.get(PushSubscription, subscription_id)
    return sub if sub is not None and sub.user_id == user_id else None


def delete_subscription(sub: PushSubscription) -> None:
    db.session.delete(sub)
    db.session.flush()


def drop_unconfirmed(now_utc: datetime) -> int:
    """Subscriptions the device has not confirmed for 60 days: Apple's push service answers
    201 even for dead endpoints, so silence from the device is the only sign."""
    result = db.session.execute(sa.delete(PushSubscription).where(
        PushSubscription.confirmed_at < now_utc - timedelta(days=UNCONFIRMED_DAYS)))
    return int(result.rowcount or 0)


def device_name(user_agent: str) -> str:
    """A short, recognisable name for a device, never the whole user agent."""
    ua = user_agent.lower()
    system = next((name for key, name in (("iphone", "iPhone"), ("ipad", "iPad"),
                                          ("android", "Android"), ("windows", "Windows"),
                                          ("mac os", "Mac"), ("linux", "Linux")) if key in ua), "")
    browser = next((name for key, name in (("edg/", "Edge"), ("firefox", "Firefox"),
                                           ("samsungbrowser", "Samsung Internet"),
                                           ("chrome", "Chrome"), ("safari", "Safari")) if key in ua), "")
    return " · ".join(p for p in (system, browser) if p) or "?"


# --- Status -----------------------------------------------------------------------------
@dataclass(frozen=True)
class PushHealth:
    subscriptions: int
    queue_depth: int
    alerts: int  # push services answering 400/401/403/413: a configuration fault


def push_health() -> PushHealth:
    subs = db.session.scalar(sa.select(sa.func.count(PushSubscription.id))) or 0
    depth = db.session.scalar(sa.select(sa.func.count(PushDelivery.id)).where(
        PushDelivery.state.in_((DeliveryState.PENDING, DeliveryState.SENDING)))) or 0
    alerts = db.session.scalar(sa.select(sa.func.count(PushService.origin)).where(
        PushService.alert_status.is_not(None))) or 0
    return PushHealth(subs, depth, alerts)


def services_with_state() -> list[PushService]:
    return list(db.session.scalars(sa.select(PushService).order_by(PushService.origin)))


def deliveries_by_state() -> dict[str, int]:
    rows = db.session.execute(sa.select(PushDelivery.state, sa.func.count())
                              .group_by(PushDelivery.state))
    return {str(state): n for state, n in rows}


def now() -> datetime:
    return utcnow()
