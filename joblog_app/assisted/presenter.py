"""Words about recorded requests, for staff and (in plain words) for the citizen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from ..audit.presenter import ROLE_LABELS
from .models import AssistanceRequest, Basis

# For staff: the basis with the law it rests on.
BASIS_LABELS = {
    Basis.IL_26A_6: _l("The citizen asked for help to put information on Jobnet "
                       "(Integrationsloven § 26 a, stk. 6)"),
    Basis.FVL_8: _l("The citizen is represented by someone (Forvaltningsloven § 8)"),
}
# For the citizen: the same in plain words.
CITIZEN_BASIS_LABELS = {
    Basis.IL_26A_6: _l("You asked the job centre for help to register your job search."),
    Basis.FVL_8: _l("Someone speaks for you and may get help for you."),
}


@dataclass(frozen=True)
class RequestLine:
    """One request as the citizen's page shows it."""

    request: AssistanceRequest
    basis: str
    recorded_by: str
    state: str  # active, renewed, withdrawn, ended, expired, future
    state_words: str


def _state(request: AssistanceRequest, renewed: set[int], citizen_id: int,
           today: date) -> tuple[str, str]:
    if request.withdrawn_at is not None:
        if request.withdrawn_by_id == citizen_id:
            return "withdrawn", str(_l("You withdrew it."))
        return "ended", str(_l("The job centre ended it."))
    if request.id in renewed:
        return "renewed", str(_l("Renewed."))
    if request.valid_until < today:
        return "expired", str(_l("It has run out."))
    return "active", str(_l("Active."))


def citizen_lines(requests: list[AssistanceRequest], citizen_id: int,
                  today: date) -> list[RequestLine]:
    renewed = {r.renews_id for r in requests if r.renews_id is not None}
    lines = []
    for request in requests:
        state, words = _state(request, renewed, citizen_id, today)
        lines.append(RequestLine(request, str(CITIZEN_BASIS_LABELS[request.basis]),
                                 str(ROLE_LABELS.get(request.recorded_by_role,
                                                     request.recorded_by_role)),
                                 state, words))
    return lines
