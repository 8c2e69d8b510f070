"""Staff accounts: created and disabled by an administrator of the same municipality (page
and ``flask staff``); disabling ends the sessions at once."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from joblog_app.auth import services as auth
from joblog_app.auth.models import LoginSession, Municipality, Role, User
from joblog_app.extensions import db
from joblog_app.staff import services
from tests.core.test_access import _login_as


def test_cli_creates_and_disables_staff(app, municipality):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["staff", "create", "--email", "Ny@Example.org", "--name", "Ny Hjælper",
                                 "--role", "helper", "--municipality", "101"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "ny@example.org"))
    assert user.role == Role.HELPER and user.municipality_id == municipality.id
    token = auth.start_session(user, timedelta(hours=12))
    db.session.commit()
    result = runner.invoke(args=["staff", "disable", "ny@example.org"])
    assert result.exit_code == 0 and "1 session(s) ended" in result.output
    db.session.expire_all()
    assert not db.session.get(User, user.id).is_active
    assert auth.user_for_session(token, timedelta(days=1)) is None
    bad = runner.invoke(args=["staff", "create", "--email", "x@example.org", "--name", "X",
                              "--role", "helper", "--municipality", "999"])
    assert bad.exit_code != 0 and "no municipality" in bad.output


def _admin_and_others(make_citizen):  # type: ignore[no-untyped-def]
    other = Municipality(code="102", name="Anden Kommune")
    db.session.add(other)
    db.session.flush()
    admin = make_citizen(role=Role.ADMIN, email="admin@example.org", phone=None)
    colleague = make_citizen(role=Role.HELPER, email="colleague@example.org", phone=None)
    stranger = services.create_staff("stranger@example.org", "Fremmed Person", "helper", other.id)
    db.session.commit()
    return admin, colleague, stranger


def test_admin_page_lists_only_their_municipality(client, make_citizen):
    admin, colleague, stranger = _admin_and_others(make_citizen)
    _login_as(client, admin)
    page = client.get("/staff/accounts").get_data(as_text=True)
    assert "colleague@example.org" in page and "stranger@example.org" not in page
    r = client.post(f"/staff/accounts/{stranger.id}/disable", {}, htmx=False)
    assert r.status_code == 404
    db.session.expire_all()
    assert db.session.get(User, stranger.id).is_active


def test_admin_creates_and_disables_staff_and_sessions_end(app, client, make_citizen):
    admin, colleague, _ = _admin_and_others(make_citizen)
    colleague_browser = type(client)(app.test_client(), client.outbox)
    _login_as(colleague_browser, colleague)
    assert colleague_browser.get("/staff").status_code == 200
    _login_as(client, admin)
    r = client.post("/staff/accounts", {"email": "bad", "name": "", "role": "citizen"}, htmx=False)
    assert r.status_code == 422 and 'aria-invalid="true"' in r.get_data(as_text=True)
    r = client.post("/staff/accounts", {"email": "new@example.org", "name": "Ny", "role": "caseworker"},
                    htmx=False)
    assert r.status_code == 303
    new = db.session.scalar(sa.select(User).where(User.email == "new@example.org"))
    assert new.role == Role.CASEWORKER and new.municipality_id == admin.municipality_id
    r = client.post("/staff/accounts", {"email": "new@example.org", "name": "Ny", "role": "helper"},
                    htmx=False)
    assert r.status_code == 422  # the e-mail is taken
    r = client.post(f"/staff/accounts/{colleague.id}/disable", {}, htmx=False)
    assert r.status_code == 303
    # The colleague, mid-session, is out at once; every session row is revoked.
    assert colleague_browser.get("/staff").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(LoginSession.id)).where(
        LoginSession.user_id == colleague.id, LoginSession.revoked_at.is_(None))) == 0
    r = client.post(f"/staff/accounts/{admin.id}/disable", {}, htmx=False)  # not oneself
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, admin.id).is_active


def test_helpers_and_caseworkers_cannot_manage_staff(client, make_citizen):
    helper = make_citizen(role=Role.HELPER, email="h@example.org", phone=None)
    _login_as(client, helper)
    assert client.get("/staff/accounts").status_code == 403
    assert client.post("/staff/accounts", {"email": "x@example.org", "name": "X", "role": "admin"},
                       htmx=False).status_code == 403
    assert db.session.scalar(sa.select(User).where(User.email == "x@example.org")) is None


def test_cli_reset_forgets_the_factors_and_ends_sessions(app, make_citizen):
    from joblog_app.auth import second_factor

    helper = make_citizen(role=Role.HELPER, email="lost@example.org", phone=None)
    second_factor.new_recovery_codes(helper.id, "k")
    token = auth.start_session(helper, timedelta(hours=1))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["staff", "reset", "lost@example.org"])
    assert result.exit_code == 0, result.output
    assert not second_factor.factors_of(helper.id).enrolled
    assert second_factor.factors_of(helper.id).recovery_codes_left == 0
    assert auth.user_for_session(token, timedelta(days=1)) is None


def test_seed_demo_prints_the_demo_staff(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "hanne@example.org" in result.output and "anna@example.org" in result.output
    assert "localhost" in result.output
