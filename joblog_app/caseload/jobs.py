"""The exemption reminder as a worker job (a commit boundary): one commit per reminder.

With ``JOBLOG_CODE_SENDER=smtp`` the caseworker gets an e-mail through the SMTP settings
the login codes use; otherwise the reminder is written to the log (development). Either
way the reminder row is written, so each exemption is reminded of once. An e-mail that
fails is rolled back with its row and tried again in a later round."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale, format_date, gettext

from ..core.clock import today
from ..extensions import db
from ..worker import Stopping
from . import reminders

log = logging.getLogger("joblog.caseload")
BATCH = 50


class ReminderNotSent(Exception):
    pass


def send_email(to: str, language: str, last_day_text_for) -> None:  # type: ignore[no-untyped-def]
    cfg = current_app.config
    with force_locale(language):
        subject = gettext("An exemption ends soon")
        body = gettext(
            "An exemption from registering job searches ends on %(day)s. Renew it, or let it "
            "end on purpose: the citizen then registers again.", day=last_day_text_for())
        origin = str(cfg.get("WEBAUTHN_ORIGIN") or "").rstrip("/")
        if origin:
            body += "\n\n" + gettext("Open the work list: %(url)s", url=origin + "/staff/worklist")
    msg = EmailMessage()
    msg["From"] = cfg["SMTP_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    try:
        with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=10) as smtp:
            if cfg["SMTP_STARTTLS"]:
                smtp.starttls()
            if cfg["SMTP_USERNAME"]:
                smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"])
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise ReminderNotSent(type(exc).__name__) from exc


def remind_exemptions_job(stopping: Stopping) -> int:
    """Remind of the exemptions that end within 14 days, once each; returns how many."""
    day = today()
    done = 0
    while done < BATCH and not stopping():
        due = reminders.claim_next(day)
        if due is None:
            break
        if due.email and current_app.config["CODE_SENDER"] == "smtp":
            try:
                send_email(due.email, due.language,
                           lambda d=due: format_date(d.last_day, "long"))
            except ReminderNotSent as exc:
                db.session.rollback()
                log.error("exemption reminder e-mail for exemption #%s failed: %s",
                          due.exemption_id, exc)
                break
            reminders.mark_emailed(due.exemption_id)
        else:
            log.info("exemption #%s ends %s: caseworker #%s reminded in the app",
                     due.exemption_id, due.last_day.isoformat(), due.caseworker_id)
        db.session.commit()
        done += 1
    return done
