"""Joblog companion: the application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

from . import config
from .extensions import babel, compress, csrf, db, login, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    from .core.static_files import JoblogFlask

    app = JoblogFlask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    config.load(app, overrides)
    from .core.inputs import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route is added
    hops = int(app.config["PROXY_HOPS"])
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    if app.config["IS_LOCAL"]:
        logging.basicConfig(level=logging.INFO)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    compress.init_app(app)
    login.init_app(app)

    from . import i18n

    babel.init_app(app, locale_selector=i18n.select_locale)
    app.context_processor(i18n.template_context)

    from .core.database import commit_request, configure_engine

    with app.app_context():
        configure_engine()

    from .auth.second_factor_views import bp as second_factor_bp
    from .auth.views import bp as auth_bp
    from .core.errors import register_error_handlers
    from .core.views import bp as core_bp
    from .offline.views import bp as offline_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(second_factor_bp)
    app.register_blueprint(offline_bp)
    register_error_handlers(app)

    from . import (
        activities,
        assisted,
        audit,
        auth,
        cafes,
        caseload,
        citizens,
        home,
        identity,
        progress,
        record,
        reminders,
        staff,
    )

    auth.init_app(app)
    audit.init_app(app)
    activities.init_app(app)
    progress.init_app(app)
    citizens.init_app(app)
    record.init_app(app)
    reminders.init_app(app)
    home.init_app(app)
    staff.init_app(app)
    cafes.init_app(app)
    assisted.init_app(app)
    caseload.init_app(app)
    identity.init_app(app)

    from . import htmx
    from .auth.sessions import init_login
    from .core.security import add_security_headers
    from .core.templating import init_templating

    init_login(app)
    from .permissions import can

    app.jinja_env.globals["can"] = can
    from flask_babel import lazy_gettext, lazy_ngettext

    # Lazy strings for i18n.bilingual, which evaluates them in two languages (extracted
    # as keywords by `flask translate update`).
    app.jinja_env.globals.update(bilingual=i18n.bilingual, _l=lazy_gettext, _ln=lazy_ngettext)
    init_templating(app)
    app.after_request(htmx.add_vary)
    app.after_request(i18n.add_content_language)
    app.after_request(add_security_headers)
    app.after_request(commit_request)  # runs first: after_request hooks run in reverse order

    from .cli import register_cli

    register_cli(app)
    return app
