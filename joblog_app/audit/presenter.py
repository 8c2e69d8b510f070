"""The words a citizen reads about a look-up of their data, in their language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .models import AuditAction

ACTION_LABELS = {
    AuditAction.READ: _l("Looked at your information"),
    AuditAction.SEARCH: _l("Searched for you"),
    AuditAction.CHANGE: _l("Changed your information"),
    AuditAction.EXPORT: _l("Took your information out in a list"),
    AuditAction.PAIRING: _l("Connected your phone"),
}
ROLE_LABELS = {
    "helper": _l("Job café helper"),
    "caseworker": _l("Caseworker"),
    "admin": _l("Administrator"),
}
# The purposes staff features write (assisted/services.py), in the citizen's words; any
# other purpose is shown as written.
PURPOSE_LABELS = {
    "assisted_registration": _l("Help to register your job search"),
    "find_citizen": _l("Finding you to help you"),
    "job_cafe_visit": _l("Your visit at the job café"),
    # The caseworker's citizen overview (caseload/overview.py) and its actions.
    "prepare_conversation": _l("Getting ready for a talk with you"),
    "work_list_follow_up": _l("Checking on your job search"),
    "refused_entries": _l("Fixing entries that Joblog did not take"),
    "requirement": _l("Your job search goal"),
    "cpr_number": _l("Your CPR number, so your entries reach Joblog"),
    "retry_refused": _l("Sending your entries to Joblog again"),
    # The purposes the work list's export and the exemptions page write (caseload/views.py).
    "Work list: follow-up on job search": _l("Checking on your job search"),
    "Exemption from registering": _l("Your break from writing down your job search"),
}
