"""How a one-time login code reaches the citizen.

``log`` writes the code to the server log (development and demos only; production refuses
it, see config.py); ``smtp`` sends an e-mail. Phone numbers need an SMS gateway, which
plugs in behind the same protocol; until one is configured, a phone number is refused with
a message rather than its code written anywhere.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Protocol

from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

log = logging.getLogger("joblog.login")


class CodeNotSent(Exception):
    """The code could not be sent; ``message`` tells the citizen what to do."""

    def __init__(self, message: object) -> None:
        super().__init__("code not sent")
        self.message = message


NO_SMS = _l("We cannot send codes by text message yet. Log in with your e-mail address.")
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


def sender_for(identifier: str) -> CodeSender:
    """The sender for this identifier; ``CodeNotSent`` when none can reach it (decided by
    its form only, so it says nothing about whether such a user exists)."""
    cfg = current_app.config
    if cfg["CODE_SENDER"] == "log":
        return LogCodeSender()
    if "@" not in identifier:
        raise CodeNotSent(NO_SMS)
    return SmtpCodeSender(
        cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), cfg["SMTP_FROM"],
        cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"], bool(cfg["SMTP_STARTTLS"]),
    )
