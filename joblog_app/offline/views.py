"""The installable app: service worker, manifest, offline page, install help, queue replay."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, jsonify, make_response, request
from flask_babel import force_locale, gettext
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from .. import htmx
from ..activities.models import Channel
from ..config import LANGUAGES
from ..permissions import Permission, current_actor, public, requires_for_api
from . import services

bp = Blueprint("offline", __name__)


@bp.get("/sw.js")
@public
def service_worker() -> Response:
    """Served from the root so it controls every page; revalidated on every check."""
    source = Path(current_app.static_folder or "", services.SW_SOURCE).read_text("utf-8")
    config = {"version": services.shell_version(), "shell": services.shell_urls(),
              "offlineUrls": {lang: f"/offline/{lang}" for lang in LANGUAGES},
              "defaultLanguage": current_app.config["BABEL_DEFAULT_LOCALE"],
              "pushFallback": _push_fallback()}
    resp = make_response(f"self.JOBLOG = {json.dumps(config)};\n{source}")
    resp.headers["Content-Type"] = "text/javascript; charset=utf-8"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


def _push_fallback() -> dict[str, dict[str, str]]:
    """What the service worker shows for a push it cannot read: browsers revoke the
    subscription of a site whose pushes show nothing."""
    texts = {}
    for lang in LANGUAGES:
        with force_locale(lang):
            texts[lang] = {"title": gettext("My job search"),
                           "body": gettext("You have a reminder. Open the app to see it.")}
    return texts


@bp.get("/manifest.webmanifest")
@public
def manifest() -> Response:
    resp = make_response(json.dumps(services.manifest(request.args.get("lang", "")),
                                    ensure_ascii=False))
    resp.headers["Content-Type"] = "application/manifest+json; charset=utf-8"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/offline/<lang>")
@public
def offline_page(lang: str) -> Response:
    """Precached for every language; holds nothing personal."""
    if lang not in LANGUAGES:
        abort(404)
    with force_locale(lang):
        resp = htmx.render("offline/offline.html", page_lang=lang)
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["Content-Language"] = lang
    return resp


@bp.get("/install")
@public
def install() -> Response:
    return htmx.render("offline/install.html")


@bp.get("/sync/session")
@requires_for_api(Permission.OWN_JOB_LOG)
def sync_session() -> Response:
    """Who is logged in (as the queue's owner key) and a fresh CSRF token for the replay."""
    return jsonify(owner=services.queue_owner(current_user.id), csrf=generate_csrf())


@bp.post("/sync/entries")
@requires_for_api(Permission.OWN_JOB_LOG)
def sync_entry() -> Response:
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON parser goes: not an entry
        payload = None
    result = services.replay_entry(current_actor(Channel.OFFLINE), payload)
    return make_response(jsonify(result.body), result.status)


@bp.app_template_global()
def queue_strings(lang: str):  # type: ignore[no-untyped-def]
    return services.client_strings_json(lang)


@bp.app_template_global()
def queue_owner() -> str:
    return services.queue_owner(current_user.id)
