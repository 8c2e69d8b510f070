"""``flask seed-demo``: the demo data the README promises, made once."""

from __future__ import annotations

import sqlalchemy as sa

from joblog_app import demo
from joblog_app.activities.models import Activity, ActivityKind
from joblog_app.auth.models import Role, User
from joblog_app.citizens import cpr
from joblog_app.citizens.models import CitizenProfile
from joblog_app.core.clock import today
from joblog_app.extensions import db
from joblog_app.progress import services as progress


def test_seed_demo_citizens_staff_history_and_cpr_numbers(app_ctx):
    demo.seed()
    db.session.commit()
    everyone = list(db.session.scalars(sa.select(User).where(User.role == Role.CITIZEN)))
    caseload = {d.phone for d in demo.DEMO_CASELOAD}
    citizens = [u for u in everyone if u.phone not in caseload]
    assert sorted(u.language for u in citizens) == ["ar", "da", "en", "uk"]
    staff = set(db.session.scalars(sa.select(User.role).where(User.role != Role.CITIZEN)))
    assert staff == {Role.HELPER, Role.CASEWORKER, Role.ADMIN}

    profiles = {p.user_id: p for p in db.session.scalars(sa.select(CitizenProfile))}
    assert len({p.benefit_group for p in profiles.values()}) >= 3
    smileys = {progress.progress_for(profiles[u.id], today()).smiley for u in citizens}
    assert {"green", "light_green", "red"} <= {str(s) for s in smileys}

    # A few months of history for everyone, and the other kinds of entry.
    for user in citizens:
        months = {d.strftime("%Y-%m") for d in db.session.scalars(
            sa.select(Activity.occurred_on).where(Activity.citizen_id == user.id,
                                                  Activity.occurred_on.is_not(None)))}
        assert len(months) >= 3, (user.language, months)
        kinds = set(db.session.scalars(sa.select(Activity.kind).where(Activity.citizen_id == user.id)))
        assert {ActivityKind.APPLICATION, ActivityKind.PLANNED_JOB, ActivityKind.COFFEE_MEETING,
                ActivityKind.NETWORK_LEAD} <= kinds

    # Made-up CPR numbers: one citizen without (the waiting state), one without a valid
    # modulus-11 check digit, which must be accepted.
    numbers = [cpr.decrypt(p.cpr_encrypted) for p in profiles.values() if p.cpr_encrypted]
    assert len(numbers) == 3 and "0703851234" in numbers

    demo.seed()  # a second run adds nothing
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == len(everyone) + len(staff)


def test_seed_demo_fills_the_work_list_with_an_exempt_and_a_red_citizen(app_ctx):
    from joblog_app.caseload import worklist
    from joblog_app.citizens import exemptions

    demo.seed()
    db.session.commit()
    leyla, ivan = (db.session.scalar(sa.select(User).where(User.phone == d.phone))
                   for d in demo.DEMO_CASELOAD)
    assert exemptions.is_exempt(leyla.id, today())
    found = worklist.work_list(leyla.municipality_id, today(), worklist.Filters())
    reasons = {r.citizen_id: r.reasons for r in found.rows}
    assert reasons[leyla.id] == (worklist.Reason.EXEMPTION_ENDS,)
    assert worklist.Reason.RED in reasons[ivan.id] and worklist.Reason.QUIET in reasons[ivan.id]
