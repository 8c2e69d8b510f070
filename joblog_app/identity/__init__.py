"""Login through an OpenID Connect provider: MitID through the municipality's broker for
citizens, the municipality's own provider for staff. Off until ``JOBLOG_OIDC_ISSUER`` and
``JOBLOG_OIDC_CLIENT_ID`` are set (docs/operations.md)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from .views import bp

    app.register_blueprint(bp)
