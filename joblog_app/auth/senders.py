"""How a one-time login code reaches the citizen.

``log`` writes the code to the server log (development and demos only; production refuses
it, see config.py); ``smtp`` sends an e-mail; ``sms`` sends a text message through the
municipality's SMS gateway (a REST API: bearer token, JSON with recipient and text).
``JOBLOG_CODE_SENDER`` names one or more, e.g. ``smtp,sms``: phone numbers go to SMS,
e-mail addresses to SMTP. An identifier no configured sender can reach is refused with a
message rather than its code written anywhere.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from email.message import EmailMessage
from typing import Protocol

import requests
from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

log = logging.getLogger("joblog.login")


class CodeNotSent(Exception):
    """The code could not be sent; ``message`` tells the citizen what to do."""

    def __init__(self, message: object, retry_after: float | None = None,
                 permanent: bool = False) -> None:
        super().__init__("code not sent")
        self.message = message
        self.retry_after = retry_after  # seconds the gateway asked us to wait (429)
        self.permanent = permanent  # trying again cannot help (the gateway refused the number)


NO_SMS = _l("We cannot send codes by text message yet. Log in with your e-mail address.")
NO_EMAIL = _l("We cannot send codes by e-mail. Log in with your phone number.")
SEND_FAILED = _l("We could not send the code just now. Try again in a few minutes.")


class CodeSender(Protocol):
    def send(self, identifier: str, code: str, language: str, user_id: int) -> None: ...


def mask_identifier(identifier: str) -> str:
    """``+45••••4050`` / ``ol•••@example.org``: recognisable by its owner, not more."""
    if "@" in identifier:
        local, _at, domain = identifier.partition("@")
        return f"{local[:2]}•••@{domain}"
    return f"{identifier[:3]}••••{identifier[-4:]}"


class LogCodeSender:
    """Development sender: the code goes to the server log, never to the phone."""

    def send(self, identifier: str, code: str, language: str, user_id: int) -> None:
        # The identifier is personal data: masked, enough to tell two test phones apart.
        log.warning("DEVELOPMENT login code for %s (user #%s): %s", mask_identifier(identifier),
                    user_id, code)


class SmtpCodeSender:
    def __init__(self, host: str, port: int, sender: str, username: str = "",
                 password: str = "", starttls: bool = False) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls = username, password, starttls

    def send(self, identifier: str, code: str, language: str, user_id: int) -> None:
        with force_locale(language):
            subject = gettext("Your login code")
            body = gettext(
                "Your login code is %(code)s. It works for 10 minutes. "
                "If you did not ask for it, you can ignore this message.",
                code=code,
            )
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = identifier
        msg["Subject"] = subject
        msg.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            log.error("login code e-mail for user #%s failed: %s", user_id, type(exc).__name__)
            raise CodeNotSent(SEND_FAILED) from exc


def sms_text(code: str, language: str) -> str:
    """The text message: the app's name and the code, nothing else (no name, no number,
    no link), in the citizen's language. Short enough for one message also in Arabic and
    Ukrainian (70 characters in UCS-2)."""
    with force_locale(language):
        return gettext("%(app)s: your login code is %(code)s", app=gettext("My job search"),
                       code=code)


class SmsCodeSender:
    """A municipal SMS gateway's REST API: ``POST <url>`` with ``Authorization: Bearer
    <token>`` and ``{"recipient", "sender", "text", "reference"}``; it answers 2xx with a
    message id and a status, 429 with ``Retry-After`` when we send too fast, 401/403 for a
    bad token, 400/422 for a number it cannot reach, 5xx when it is down."""

    def __init__(self, url: str, token: str, sender: str, timeout: float = 5.0,
                 session: requests.Session | None = None) -> None:
        self.url, self.token, self.sender, self.timeout = url, token, sender, timeout
        self.http = session or requests.Session()

    def send(self, identifier: str, code: str, language: str, user_id: int) -> None:
        body = {"recipient": identifier, "sender": self.sender, "text": sms_text(code, language),
                "reference": uuid.uuid4().hex}
        try:
            r = self.http.post(self.url, json=body, timeout=self.timeout,
                               headers={"Authorization": f"Bearer {self.token}",
                                        "Accept": "application/json"})
        except requests.RequestException as exc:
            log.error("login code SMS for user #%s failed: %s", user_id, type(exc).__name__)
            raise CodeNotSent(SEND_FAILED) from exc
        if r.status_code == 429:
            retry_after = _seconds(r.headers.get("Retry-After"))
            log.warning("login code SMS for user #%s: gateway rate limit (retry after %s s)",
                        user_id, retry_after)
            raise CodeNotSent(SEND_FAILED, retry_after=retry_after)
        if r.status_code in (401, 403):
            log.error("login code SMS for user #%s refused: %s (check JOBLOG_SMS_TOKEN)",
                      user_id, r.status_code)
            raise CodeNotSent(SEND_FAILED)
        if r.status_code in (400, 404, 422):
            log.error("login code SMS for user #%s refused by the gateway: %s", user_id,
                      r.status_code)
            raise CodeNotSent(SEND_FAILED, permanent=True)
        if not 200 <= r.status_code < 300:
            log.error("login code SMS for user #%s failed: gateway answered %s", user_id,
                      r.status_code)
            raise CodeNotSent(SEND_FAILED)
        try:
            answer = r.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            answer = {}
        message_id = answer.get("messageId") or answer.get("id")
        status = answer.get("status")
        log.info("login code SMS for user #%s accepted: message %s, status %s", user_id,
                 str(message_id)[:64], str(status)[:32])


def _seconds(value: str | None) -> float | None:
    """``Retry-After`` in seconds (a number; an HTTP date is read as "soon")."""
    if not value:
        return None
    try:
        return max(0.0, min(float(value), 3600.0))
    except ValueError:
        return None


def configured_senders(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def sender_for(identifier: str) -> CodeSender:
    """The sender for this identifier; ``CodeNotSent`` when none can reach it (decided by
    its form only, so it says nothing about whether such a user exists)."""
    cfg = current_app.config
    senders = configured_senders(cfg["CODE_SENDER"])
    if "log" in senders:
        return LogCodeSender()
    if "@" not in identifier:
        if "sms" not in senders:
            raise CodeNotSent(NO_SMS)
        return SmsCodeSender(cfg["SMS_URL"], cfg["SMS_TOKEN"], cfg["SMS_SENDER"],
                             float(cfg["SMS_TIMEOUT"]))
    if "smtp" not in senders:
        raise CodeNotSent(NO_EMAIL)
    return SmtpCodeSender(
        cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), cfg["SMTP_FROM"],
        cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"], bool(cfg["SMTP_STARTTLS"]),
    )
