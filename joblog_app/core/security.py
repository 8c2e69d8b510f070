"""Security headers on every response (OWASP ASVS 3.4.x, 14.2)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, current_app, request

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def csp_for(config: dict) -> str:  # type: ignore[type-arg]
    """The policy; with an OpenID provider configured, logging out may send the browser on
    to the provider's logout (RP-initiated logout), so forms may lead there too."""
    issuer = config.get("OIDC_ISSUER") or ""
    parts = urlsplit(issuer)
    if not (config.get("OIDC_CLIENT_ID") and parts.scheme in ("http", "https") and parts.netloc):
        return CSP
    return CSP.replace("form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}")


def add_security_headers(response: Response) -> Response:
    h = response.headers
    h.setdefault("Content-Security-Policy", current_app.config.get("CSP") or CSP)
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "same-origin"
    h["X-Frame-Options"] = "DENY"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    # A page of another site that opened ours (or that we open) gets no window reference
    # to it: no navigating our tab, no counting its frames (cross-site leaks).
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    if not current_app.config["IS_LOCAL"]:
        h["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    # Pages carry personal data (or a login identifier): nothing may stay in a shared
    # phone's or a proxy's HTTP cache. Static files keep their own caching, and so do the
    # app's public shell resources (service worker, manifest, offline page).
    public_shell = request.blueprint == "offline" and "Cache-Control" in h
    if not request.path.startswith("/static/") and not public_shell:
        h["Cache-Control"] = "no-store"
    return response
