"""Login through an OpenID Connect provider: MitID through the municipality's broker for
citizens, the municipality's own provider for staff (docs/operations.md).

Authorization code flow with PKCE (S256), ``state`` and ``nonce`` (Authlib's OAuth2 client),
the provider's discovery document and JWKS (cached, fetched again for an unknown key id),
and the ID token checked here: signature against the JWKS (joserfc, Authlib's JOSE library),
``iss``, ``aud`` (and ``azp`` with several audiences), ``exp``/``iat`` with a small clock
skew, ``nonce``, and the required assurance level. Issuer, client, claim names and levels
come from configuration (``JOBLOG_OIDC_*``); nothing here knows one broker.

The broker vouches for a CPR number; the citizen is found through the blind index
(citizens.citizen_by_cpr), never created. A CPR number never leaves this module: not in a
log line, a URL, an exception message or the session.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749 import OAuth2Error
from flask_babel import lazy_gettext as _l
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ..auth.models import Role, User
from ..citizens import services as citizens
from ..citizens.cpr import CprError

LEVELS = ("low", "substantial", "high")
ALGORITHMS = ["RS256", "PS256", "ES256", "RS384", "RS512", "ES384", "PS384", "PS512"]
CACHE_SECONDS = 3600

MESSAGES = {
    "state": _l("This login has run out, or it was started in another window. "
                "Start the login again."),
    "provider": _l("The login with MitID was stopped. You can start it again."),
    "token": _l("We could not check your login with MitID. Start the login again. "
                "If it keeps happening, contact your job centre."),
    "expired": _l("The login took too long. Start the login again."),
    "level": _l("This login is not safe enough for this app. "
                "Log in with the MitID app or a MitID code display."),
    "unknown_cpr": _l("Your job centre has not signed you up for this app yet."),
    "staff_unknown": _l("There is no staff account for this login. Ask your administrator."),
    "unavailable": _l("Login with MitID does not work just now. Try again in a few minutes, "
                      "or log in with a code."),
}


class Refused(Exception):
    """The provider's answer is not accepted; ``reason`` (a key of MESSAGES) goes to the log,
    ``message`` to the user."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail  # for the log: never a claim value
        self.message = MESSAGES[reason]


@dataclass(frozen=True)
class Settings:
    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    cpr_claim: str
    loa_claim: str
    min_loa: str
    acr_values: str
    staff: bool
    email_claim: str
    second_factor_amr: frozenset[str]
    timeout: float
    clock_skew: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings | None:
        """The settings, or None when no provider is configured (the feature is off)."""
        if not (config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID")):
            return None
        return cls(
            issuer=config["OIDC_ISSUER"].rstrip("/"), client_id=config["OIDC_CLIENT_ID"],
            client_secret=config["OIDC_CLIENT_SECRET"], scopes=config["OIDC_SCOPES"],
            cpr_claim=config["OIDC_CPR_CLAIM"], loa_claim=config["OIDC_LOA_CLAIM"],
            min_loa=config["OIDC_MIN_LOA"], acr_values=config["OIDC_ACR_VALUES"],
            staff=bool(config["OIDC_STAFF"]), email_claim=config["OIDC_EMAIL_CLAIM"],
            second_factor_amr=frozenset(
                v.strip() for v in str(config["OIDC_SECOND_FACTOR_AMR"]).split(",") if v.strip()),
            timeout=float(config["OIDC_TIMEOUT"]), clock_skew=int(config["OIDC_CLOCK_SKEW_SECONDS"]))


# Discovery documents and key sets per issuer: (fetched at, document).
_discovery: dict[str, tuple[float, dict[str, Any]]] = {}
_jwks: dict[str, tuple[float, dict[str, Any]]] = {}


def _get_json(url: str, timeout: float) -> dict[str, Any]:
    try:
        r = requests.get(url, timeout=timeout, headers={"Accept": "application/json"})
        r.raise_for_status()
        document = r.json()
    except (requests.RequestException, ValueError) as exc:
        raise Refused("unavailable", f"{url}: {type(exc).__name__}") from exc
    if not isinstance(document, dict):
        raise Refused("unavailable", f"{url}: not a JSON object")
    return document


def discovery(settings: Settings) -> dict[str, Any]:
    """The provider's ``/.well-known/openid-configuration``, checked to be its own."""
    cached = _discovery.get(settings.issuer)
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    document = _get_json(f"{settings.issuer}/.well-known/openid-configuration", settings.timeout)
    if str(document.get("issuer", "")).rstrip("/") != settings.issuer:
        raise Refused("unavailable", "discovery names another issuer")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(document.get(name), str):
            raise Refused("unavailable", f"discovery without {name}")
    _discovery[settings.issuer] = (time.monotonic(), document)
    return document


def _key_set(settings: Settings, meta: dict[str, Any], refresh: bool = False) -> KeySet:
    cached = _jwks.get(settings.issuer)
    if refresh or not cached or time.monotonic() - cached[0] >= CACHE_SECONDS:
        cached = (time.monotonic(), _get_json(meta["jwks_uri"], settings.timeout))
        _jwks[settings.issuer] = cached
    try:
        return KeySet.import_key_set(cached[1])  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise Refused("unavailable", "the provider's JWKS cannot be read") from exc


def forget_cached(issuer: str | None = None) -> None:
    """Drop cached discovery documents and keys (tests; a provider that moved)."""
    for cache in (_discovery, _jwks):
        if issuer is None:
            cache.clear()
        else:
            cache.pop(issuer.rstrip("/"), None)


def _client(settings: Settings, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(settings.client_id, settings.client_secret, scope=settings.scopes,
                         redirect_uri=redirect_uri, code_challenge_method="S256")


def start(settings: Settings, redirect_uri: str, purpose: str) -> tuple[str, dict[str, str]]:
    """The provider's authorization URL and what the browser session must keep until the
    answer comes back (state, nonce, PKCE verifier, citizen or staff)."""
    meta = discovery(settings)
    pending = {"state": secrets.token_urlsafe(32), "nonce": secrets.token_urlsafe(32),
               "verifier": secrets.token_urlsafe(64), "purpose": purpose}
    extra = {"nonce": pending["nonce"]}
    if settings.acr_values:
        extra["acr_values"] = settings.acr_values
    with _client(settings, redirect_uri) as client:
        url, _state = client.create_authorization_url(
            meta["authorization_endpoint"], state=pending["state"],
            code_verifier=pending["verifier"], **extra)
    return url, pending


def exchange_code(settings: Settings, meta: dict[str, Any], redirect_uri: str, code: str,
                  verifier: str) -> dict[str, Any]:
    """The token endpoint's answer for this authorization code (client secret + PKCE)."""
    with _client(settings, redirect_uri) as client:
        try:
            return dict(client.fetch_token(meta["token_endpoint"], code=code,
                                           code_verifier=verifier, timeout=settings.timeout))
        except OAuth2Error as exc:
            raise Refused("token", f"token endpoint: {exc.error}") from exc
        except (requests.RequestException, ValueError) as exc:
            raise Refused("unavailable", f"token endpoint: {type(exc).__name__}") from exc


def verify_id_token(settings: Settings, meta: dict[str, Any], id_token: str, nonce: str,
                    now: float | None = None) -> dict[str, Any]:
    """The ID token's claims once its signature, issuer, audience, times and nonce hold."""
    now = time.time() if now is None else now
    try:
        token = jwt.decode(id_token, _key_set(settings, meta), algorithms=ALGORITHMS)
    except (JoseError, ValueError) as exc:
        # A key the provider rotated in: fetch its keys once more before refusing.
        try:
            token = jwt.decode(id_token, _key_set(settings, meta, refresh=True),
                               algorithms=ALGORITHMS)
        except (JoseError, ValueError):
            raise Refused("token", f"signature: {type(exc).__name__}") from exc
    claims = dict(token.claims)
    if str(claims.get("iss", "")).rstrip("/") != settings.issuer:
        raise Refused("token", "iss is not the configured issuer")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if settings.client_id not in audiences:
        raise Refused("token", "aud is not this client")
    if len(audiences) > 1 and claims.get("azp") != settings.client_id:
        raise Refused("token", "several audiences and azp is not this client")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise Refused("token", "exp or iat missing")
    if exp < now - settings.clock_skew:
        raise Refused("expired", "exp has passed")
    if iat > now + settings.clock_skew:
        raise Refused("token", "iat in the future")
    if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(
            claims["nonce"], nonce):
        raise Refused("token", "nonce is not the one sent")
    return claims


def level_of(value: object) -> str | None:
    """``substantial`` from ``Substantial`` or ``https://data.gov.dk/concept/core/nsis/loa/
    Substantial``; None for anything else."""
    if not isinstance(value, str):
        return None
    level = value.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].lower()
    return level if level in LEVELS else None


def finish(settings: Settings, redirect_uri: str, pending: dict[str, str] | None,
           answer: Mapping[str, str], now: float | None = None) -> dict[str, Any]:
    """Check the provider's answer at the redirect URI and return the ID token's claims
    (with the assurance level the configuration asks for)."""
    if not pending or not hmac.compare_digest(str(answer.get("state", "")),
                                              pending.get("state", "")):
        raise Refused("state", "state is not the one sent")
    if answer.get("error"):
        raise Refused("provider", f"provider answered {str(answer['error'])[:40]}")
    code = answer.get("code")
    if not code:
        raise Refused("state", "no code")
    meta = discovery(settings)
    # RFC 9207: a provider that names itself in the answer must be ours (mix-up attacks).
    if answer.get("iss") and str(answer["iss"]).rstrip("/") != settings.issuer:
        raise Refused("token", "the answer names another issuer")
    tokens = exchange_code(settings, meta, redirect_uri, code, pending["verifier"])
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise Refused("token", "no ID token")
    claims = verify_id_token(settings, meta, id_token, pending["nonce"], now=now)
    level = level_of(claims.get(settings.loa_claim))
    if level is None or LEVELS.index(level) < LEVELS.index(settings.min_loa):
        raise Refused("level", f"assurance level {level or 'missing'}")
    return claims


def citizen_for(settings: Settings, claims: Mapping[str, Any]) -> User:
    """The active citizen with the CPR number the provider vouched for; never created."""
    raw = claims.get(settings.cpr_claim)
    if not isinstance(raw, str):
        raise Refused("unknown_cpr", "no CPR claim")
    try:
        user = citizens.citizen_by_cpr(raw)
    except CprError:
        raise Refused("unknown_cpr", "the CPR claim is not a CPR number") from None
    if user is None:
        raise Refused("unknown_cpr", "no active citizen with this CPR number")
    return user


def staff_for(settings: Settings, claims: Mapping[str, Any]) -> tuple[User, bool]:
    """The active staff user with the e-mail the provider vouched for (a role the provider
    names is ignored), and whether its ``amr`` shows a second factor."""
    import sqlalchemy as sa

    from ..extensions import db

    email = claims.get(settings.email_claim)
    if not settings.staff or not isinstance(email, str) or "@" not in email:
        raise Refused("staff_unknown", "no e-mail claim")
    user = db.session.scalar(sa.select(User).where(
        User.email == email.strip().lower(), User.is_active, User.role != Role.CITIZEN))
    if user is None:
        raise Refused("staff_unknown", "no active staff user with this e-mail")
    amr = claims.get("amr")
    methods = {str(m) for m in amr} if isinstance(amr, list) else set()
    return user, bool(methods & settings.second_factor_amr)


def logout_url(settings: Settings, post_logout_redirect_uri: str) -> str | None:
    """The provider's RP-initiated logout URL, when its discovery names one. Without
    ``id_token_hint``: the ID token holds the CPR number, and URLs must not."""
    from urllib.parse import urlencode

    try:
        endpoint = discovery(settings).get("end_session_endpoint")
    except Refused:
        return None
    if not isinstance(endpoint, str):
        return None
    query = urlencode({"client_id": settings.client_id,
                       "post_logout_redirect_uri": post_logout_redirect_uri})
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
