"""Configuration.

Everything comes from environment variables prefixed ``JOBLOG_`` (for example
``JOBLOG_SECRET_KEY``, ``JOBLOG_DATABASE_URL``, ``JOBLOG_ENV``). There is no fallback
secret: in development a random key is generated once into the instance folder; in
production the app refuses to start without ``JOBLOG_SECRET_KEY``.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

LANGUAGES = ("da", "uk", "ar", "en")
RTL_LANGUAGES = frozenset({"ar"})


class ConfigError(RuntimeError):
    """Raised when the app is started without configuration it cannot run without."""


def defaults(instance_path: str) -> dict[str, Any]:
    """Settings that are safe everywhere; environment variables override them."""
    return {
        "ENV_NAME": "production",
        "DATABASE_URL": "sqlite:///" + str(Path(instance_path) / "joblog.sqlite"),
        "BABEL_DEFAULT_LOCALE": "da",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Copenhagen",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent.parent / "translations"),
        "LANGUAGES": LANGUAGES,
        # Long-lived sessions on the citizen's own phone; idle limit enforced per session row.
        "PERMANENT_SESSION_LIFETIME": timedelta(days=180),
        "SESSION_IDLE_DAYS": 60,
        # The cookie is set at login with the same 180 days as the session row, and again
        # whenever the session changes (CSRF token, flash message); the row's last_seen_at
        # enforces the idle limit. Re-signing it on every response only cost CPU and sent a
        # Set-Cookie with every page and static file.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # The largest real request is an entry with 2,000 characters of Arabic notes
        # (6 bytes each once form-encoded): about 20 KB. Anything far beyond is refused
        # with a localized 413 before it is read.
        "MAX_CONTENT_LENGTH": 128 * 1024,
        "MAX_FORM_MEMORY_SIZE": 128 * 1024,
        "MAX_FORM_PARTS": 200,
        # Staff sessions (ASVS 7.3): end after 30 idle minutes and 12 hours at most.
        "STAFF_SESSION_HOURS": 12,
        "STAFF_SESSION_IDLE_MINUTES": 30,
        # A job café helper's one-time code that logs a citizen's phone in: seconds valid.
        "CAFE_PAIRING_SECONDS": 120,
        # Passkeys (WebAuthn): the site's domain and exact origin, e.g. joblog.kommune.dk and
        # https://joblog.kommune.dk. Required in production; in development they follow the
        # address the browser used (auth/second_factor_views.py).
        "WEBAUTHN_RP_ID": "",
        "WEBAUTHN_ORIGIN": "",
        "WEBAUTHN_RP_NAME": "Min jobsøgning",
        "WTF_CSRF_TIME_LIMIT": None,  # the token is bound to the session, which expires itself
        # Reverse proxies in front that set X-Forwarded-For/-Proto (0: none). Trusted for that
        # many hops, so login throttles see the citizen's address, not the proxy's.
        "PROXY_HOPS": 0,
        # Login codes asked for from one address per 15 minutes (a job café puts 30
        # citizens behind one address; see docs/operations.md for the other budgets).
        "LOGIN_MAX_SENDS_PER_IP": 60,
        # Bearer token that lets monitoring read the record queue's figures on /healthz
        # (empty: nobody; anonymous callers only learn that the app is alive).
        "MONITORING_TOKEN": "",
        # log (development: codes in the server log), or smtp and/or sms ("smtp,sms": phone
        # numbers by SMS, e-mail addresses by SMTP); production refuses log.
        "CODE_SENDER": "log",
        # The municipality's SMS gateway (auth/senders.py SmsCodeSender): its message URL,
        # bearer token and the sender name shown on the phone (at most 11 characters).
        "SMS_URL": "",
        "SMS_TOKEN": "",
        "SMS_SENDER": "Kommune",
        "SMS_TIMEOUT": 5.0,
        "INSECURE_LOG_CODES": False,
        # Record delivery (record/): gateway per municipality is stored on the municipality;
        # connection details and secrets only from the environment.
        "RECORD_HTTP_URL": "http://127.0.0.1:8089",
        "RECORD_TOKEN_URL": "",  # default: <RECORD_HTTP_URL>/oauth2/token
        "RECORD_CLIENT_ID": "joblog",
        "RECORD_CLIENT_SECRET": "",
        "RECORD_TIMEOUT": 10.0,
        "RECORD_EXPORT_DIR": str(Path(instance_path) / "record-export"),
        "RECORD_BATCH_SIZE": 50,
        # Batches the relay sends before the worker's other jobs get their turn (it comes
        # straight back while entries are due).
        "RECORD_BATCHES_PER_ROUND": 10,
        "RECORD_LEASE_SECONDS": 120,
        "RECORD_SEND_THREADS": 4,
        # First retry after 2-4 s, doubling up to an hour (with jitter); Retry-After wins.
        "RECORD_BACKOFF_BASE": 2.0,
        # Days an audit row (a staff look-up of citizen data) is kept, then deleted by the
        # worker. Two years by default: long enough to answer a citizen's access request.
        "AUDIT_RETENTION_DAYS": 730,
        # Web push (reminders/): the VAPID key from the environment (development and tests
        # make one in the instance folder); the contact is a real mailto: or https: address.
        "VAPID_PRIVATE_KEY": "",
        "VAPID_CONTACT": "",
        "PUSH_BATCH_SIZE": 500,
        "PUSH_CONCURRENCY": 64,
        "PUSH_LEASE_SECONDS": 120,
        "PUSH_TIMEOUT": 10.0,
        "PUSH_BACKOFF_BASE": 2.0,
        "PUSH_PLAN_BATCH_SIZE": 200,
        "PUSH_PLAN_EVERY_MINUTES": 60,
        # Login through an OpenID Connect provider, e.g. MitID through the municipality's
        # broker (identity/, docs/operations.md). Off until issuer and client id are set.
        "OIDC_ISSUER": "",
        "OIDC_CLIENT_ID": "",
        "OIDC_CLIENT_SECRET": "",
        "OIDC_SCOPES": "openid",
        # The claims the provider puts the CPR number and the assurance level in (NemLog-in's
        # names by default), the lowest level accepted (low < substantial < high), and the
        # acr_values to ask for (empty: none).
        "OIDC_CPR_CLAIM": "https://data.gov.dk/model/core/eid/cprNumber",
        "OIDC_LOA_CLAIM": "https://data.gov.dk/concept/core/nsis/loa",
        "OIDC_MIN_LOA": "substantial",
        "OIDC_ACR_VALUES": "",
        # Staff through the same provider: found by this e-mail claim (never created); an
        # amr with one of these values counts as their second factor.
        "OIDC_STAFF": False,
        "OIDC_EMAIL_CLAIM": "email",
        "OIDC_SECOND_FACTOR_AMR": "mfa,hwk,otp,sms,swk",
        "OIDC_TIMEOUT": 10.0,
        "OIDC_CLOCK_SKEW_SECONDS": 60,
        "SMTP_HOST": "localhost",
        "SMTP_PORT": 25,
        "SMTP_FROM": "",
        "SMTP_USERNAME": "",
        "SMTP_PASSWORD": "",
        "SMTP_STARTTLS": False,
        "COMPRESS_MIMETYPES": [
            "text/html", "text/css", "application/javascript", "text/javascript",
            "application/json", "image/svg+xml", "application/manifest+json",
        ],
        "COMPRESS_LEVEL": 6,
        "COMPRESS_MIN_SIZE": 300,
        "SEND_FILE_MAX_AGE_DEFAULT": timedelta(days=7),
    }


def load(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Fill ``app.config`` from defaults, ``JOBLOG_*`` variables and test overrides."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(defaults(app.instance_path))
    app.config.from_prefixed_env("JOBLOG")
    if overrides:
        app.config.update(overrides)

    env = app.config["ENV_NAME"]
    if env not in ("production", "development", "testing"):
        raise ConfigError(f"JOBLOG_ENV_NAME must be production, development or testing, not {env!r}")
    app.config["IS_LOCAL"] = env in ("development", "testing")
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]

    if not app.config.get("SECRET_KEY"):
        if env == "production":
            raise ConfigError("JOBLOG_SECRET_KEY must be set in production.")
        app.config["SECRET_KEY"] = instance_secret(app.instance_path, "secret_key",
                                                    lambda: secrets.token_hex(32))

    if not app.config.get("CPR_KEY"):
        if env == "production":
            raise ConfigError("JOBLOG_CPR_KEY (a Fernet key) must be set in production.")
        app.config["CPR_KEY"] = instance_secret(app.instance_path, "cpr_key", _fernet_key)

    if not app.config.get("CPR_INDEX_KEY"):
        # Keys the CPR blind index (citizens/cpr.py): a random string of 32+ bytes, its own
        # key (not CPR_KEY). Changing it means recomputing citizen_profile.cpr_index.
        if env == "production":
            raise ConfigError("JOBLOG_CPR_INDEX_KEY (32+ random bytes) must be set in production.")
        app.config["CPR_INDEX_KEY"] = instance_secret(app.instance_path, "cpr_index_key",
                                                      lambda: secrets.token_hex(32))

    if not app.config.get("TOTP_KEY"):
        # Encrypts staff TOTP secrets at rest, as CPR_KEY does CPR numbers (its own key).
        if env == "production":
            raise ConfigError("JOBLOG_TOTP_KEY (a Fernet key) must be set in production.")
        app.config["TOTP_KEY"] = instance_secret(app.instance_path, "totp_key", _fernet_key)

    if env == "production" and not (app.config["WEBAUTHN_RP_ID"] and app.config["WEBAUTHN_ORIGIN"]):
        raise ConfigError("JOBLOG_WEBAUTHN_RP_ID and JOBLOG_WEBAUTHN_ORIGIN (the site's domain and "
                          "https origin, for staff passkeys) must be set in production.")

    sender = app.config["CODE_SENDER"]
    senders = [part.strip() for part in str(sender).split(",") if part.strip()]
    if not senders or any(s not in ("log", "smtp", "sms") for s in senders):
        raise ConfigError(f"JOBLOG_CODE_SENDER must be log, smtp, sms or smtp,sms, not {sender!r}")
    if "sms" in senders and not (app.config["SMS_URL"] and app.config["SMS_TOKEN"]):
        raise ConfigError("JOBLOG_CODE_SENDER=sms needs JOBLOG_SMS_URL and JOBLOG_SMS_TOKEN "
                          "(the municipality's SMS gateway).")
    if env == "production" and "log" in senders and app.config["INSECURE_LOG_CODES"] is not True:
        # Anyone who can read the log could log in as any citizen.
        raise ConfigError("JOBLOG_CODE_SENDER=log writes login codes to the server log: production "
                          "needs JOBLOG_CODE_SENDER=smtp and/or sms (benchmarks on throw-away data may set "
                          "JOBLOG_INSECURE_LOG_CODES=true).")

    issuer = app.config["OIDC_ISSUER"]
    if issuer and app.config["OIDC_CLIENT_ID"]:
        if env == "production" and not issuer.startswith("https://"):
            raise ConfigError("JOBLOG_OIDC_ISSUER must be an https:// URL in production.")
        if app.config["OIDC_MIN_LOA"] not in ("low", "substantial", "high"):
            raise ConfigError("JOBLOG_OIDC_MIN_LOA must be low, substantial or high.")
    from .core.security import csp_for

    app.config["CSP"] = csp_for(app.config)

    if not app.config["IS_LOCAL"]:
        # __Host- cookies must be Secure, path=/ and without Domain (ASVS 3.3.x).
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["SESSION_COOKIE_NAME"] = "__Host-session"


def _fernet_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def instance_secret(instance_path: str, name: str, make: Callable[[], str]) -> str:
    """A random key created once per development checkout, never committed."""
    path = Path(instance_path) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(make())
    return path.read_text().strip()
