"""Rules of the installable, offline-capable app: who owns a phone's queue, what the shell
is, the manifest, and accepting an entry replayed from the phone's queue."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from ..activities import services as activities
from ..activities.forms import validate
from ..activities.models import ActivityKind
from ..config import LANGUAGES
from ..core.clock import today
from ..core.inputs import parse_id
from ..core.templating import static_url
from ..i18n import text_direction
from ..permissions import Actor

THEME_COLOUR = "#0b5394"
BACKGROUND_COLOUR = "#f5f7fa"
# Files every screen needs; precached by the service worker so a repeat visit costs no bytes.
SHELL_STATIC = ("css/app.css", "vendor/htmx-2.0.11.min.js", "js/app.js", "js/queue.js",
                "icons/icon.svg", "icons/maskable-192.png", "icons/maskable-512.png")
SW_SOURCE = "js/sw.js"
MAX_FIELDS = 40
MAX_VALUE = 5000


def sync_entry_schema() -> dict[str, Any]:
    """JSON schema of ``POST /sync/entries`` (what static/js/queue.js sends). The field
    values are checked by the same rules as the forms (activities/forms.py)."""
    from ..activities.forms import SCHEMAS

    names = sorted({spec.name for specs in SCHEMAS.values() for spec in specs} | {"source_id"})
    return {
        "type": "object",
        "required": ["kind", "client_uuid", "fields"],
        "properties": {
            "kind": {"enum": [kind.value for kind in ActivityKind]},
            "client_uuid": {"type": "string", "pattern":
                            "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"},
            "fields": {
                "type": "object",
                "maxProperties": MAX_FIELDS,
                "properties": {name: {"type": "string", "maxLength": MAX_VALUE} for name in names},
                "additionalProperties": {"type": "string", "maxLength": MAX_VALUE},
            },
        },
    }


def queue_owner(user_id: int) -> str:
    """An opaque, stable key naming whose entries these are on a shared phone."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"queue-owner:{user_id}".encode(), hashlib.sha256).hexdigest()[:24]


def shell_urls() -> list[str]:
    return [static_url(name) for name in SHELL_STATIC] + [
        url_for("offline.offline_page", lang=lang) for lang in LANGUAGES]


def shell_version() -> str:
    """Changes whenever a shell file, the service worker or a catalog changes."""
    return _version(current_app.static_folder or "", current_app.root_path)


@cache
def _version(static_folder: str, root_path: str) -> str:
    digest = hashlib.sha256()
    files = [Path(static_folder) / name for name in (*SHELL_STATIC, SW_SOURCE)]
    files += sorted((Path(root_path).parent / "translations").glob("*/LC_MESSAGES/messages.po"))
    files += [Path(root_path).parent / "templates" / "offline" / "offline.html"]
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def manifest(lang: str) -> dict[str, Any]:
    lang = lang if lang in LANGUAGES else current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(lang):
        icons = [
            {"src": static_url("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml",
             "purpose": "any"},
            {"src": static_url("icons/maskable-192.png"), "sizes": "192x192",
             "type": "image/png", "purpose": "maskable"},
            {"src": static_url("icons/maskable-512.png"), "sizes": "512x512",
             "type": "image/png", "purpose": "maskable"},
        ]
        shortcut_icon = [{"src": static_url("icons/maskable-192.png"), "sizes": "192x192",
                          "type": "image/png"}]
        return {
            "id": "/",
            "name": _("My job search"),
            "short_name": _("Job search"),
            "description": _("Write down your job applications, coffee meetings and "
                             "contacts in a few taps."),
            "lang": lang,
            "dir": text_direction(lang),
            "start_url": url_for("home.home"),
            "scope": "/",
            "display": "standalone",
            "theme_color": THEME_COLOUR,
            "background_color": BACKGROUND_COLOUR,
            "icons": icons,
            "shortcuts": [
                {"name": _("I applied for a job"), "short_name": _("Applied"),
                 "url": url_for("activities.new", kind="application"), "icons": shortcut_icon},
                {"name": _("Coffee meeting"), "short_name": _("Coffee meeting"),
                 "url": url_for("activities.new", kind="coffee_meeting"), "icons": shortcut_icon},
            ],
            # Sharing a job ad from another app opens "Job I want to apply for" with the link
            # and the shared title filled in (activities.views.new reads these names).
            "share_target": {
                "action": url_for("activities.new", kind="planned_job"),
                "method": "GET",
                "params": {"title": "title", "text": "text", "url": "ad_url"},
            },
        }


@dataclass
class Replay:
    """The answer to a replayed entry: HTTP status and a JSON body."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)


def replay_entry(actor: Actor, payload: Any) -> Replay:
    """Save an entry sent from the phone's queue, exactly once.

    The same citizen + UUID + content is answered as success again (200), other content
    with the same UUID is a 409, invalid fields a 422 with localized messages per field.
    """
    citizen_id = actor.user_id  # the phone's own citizen: a queue is never replayed for another
    if not isinstance(payload, Mapping):
        return _invalid(_("This entry could not be read. Open it and save it again."))
    try:
        kind = ActivityKind(payload.get("kind"))
        client_uuid = uuid.UUID(str(payload.get("client_uuid")))
    except ValueError:
        return _invalid(_("This entry could not be read. Open it and save it again."))
    fields = payload.get("fields")
    if not isinstance(fields, Mapping) or len(fields) > MAX_FIELDS or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) <= MAX_VALUE
            for k, v in fields.items()):
        return _invalid(_("This entry could not be read. Open it and save it again."))
    source = None
    source_id = fields.get("source_id", "")
    if source_id:
        parsed = parse_id(source_id)
        source = activities.get_for_citizen(citizen_id, parsed) if parsed else None
        if source is None or not activities.can_convert(source, kind):
            return _invalid(_("The entry you started from is deleted or already used. "
                              "Start a new one from the front page."))
    result = validate(kind, fields, today())
    if not result.ok:
        return Replay(422, {"status": "invalid", "message": _(
            "Some details need a look. Tap Edit to see them."),
            "errors": {name: str(msg) for name, msg in result.errors.items()}})
    try:
        saved = activities.create_activity(citizen_id, kind, result.data, actor=actor,
                                           client_uuid=client_uuid, source=source)
    except activities.ConflictError:
        return Replay(409, {"status": "conflict", "message": _(
            "You saved this entry before with other details. We did not change it.")})
    return Replay(201 if saved.created else 200,
                  {"status": "saved", "id": saved.activity.id, "created": saved.created})


def _invalid(message: str) -> Replay:
    return Replay(422, {"status": "invalid", "message": message, "errors": {}})


def _plural_forms(lang: str, singular: str, plural: str) -> dict[str, str]:
    """One translated form per CLDR plural category, for ``Intl.PluralRules`` in the page;
    ``%(num)s`` is left for the script to fill in."""
    from babel import Locale
    from flask_babel import get_translations

    rules = Locale.parse(lang).plural_form
    translations = get_translations()
    forms: dict[str, str] = {}
    for n in range(0, 200):
        forms.setdefault(rules(n), translations.ungettext(singular, plural, n))
    return forms


def client_strings(lang: str) -> dict[str, Any]:
    """Words the offline queue's script shows; rendered into the page as JSON data."""
    from ..activities.forms import KIND_LABELS

    return {
        "lang": lang,
        "kinds": {kind.value: str(label) for kind, label in KIND_LABELS.items()},
        "state": {
            "waiting": _("Waiting to send"),
            "sending": _("Sending…"),
            "attention": _("Needs a look — not sent"),
            "conflict": _("Not sent — you saved it before with other details"),
        },
        "count": _plural_forms(lang, "%(num)s entry is not sent yet.",
                               "%(num)s entries are not sent yet."),
        "logoutWarning": _plural_forms(
            lang, "%(num)s entry is not sent yet. If you log out now, it is deleted from "
                  "this phone.",
            "%(num)s entries are not sent yet. If you log out now, they are deleted from "
            "this phone."),
        "savedOffline": _("Saved on this phone. It will be sent when you are online."),
        "loginToSend": _("Log in again to send them."),
        "offline": _("You are offline. What you save is kept on this phone."),
        "sendFailed": _("Could not send yet. We try again by ourselves."),
        "sent": _("All waiting entries are sent."),
    }


_STRINGS_JSON: dict[str, Markup] = {}


def client_strings_json(lang: str) -> Markup:
    """``client_strings`` as JSON safe inside ``<script type=application/json>``; the words
    only change with a deploy, so each language is built once per process."""
    if lang not in _STRINGS_JSON:
        _STRINGS_JSON[lang] = htmlsafe_json_dumps(client_strings(lang))
    return _STRINGS_JSON[lang]
