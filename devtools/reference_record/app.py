"""The record contract as request handlers behind werkzeug's URL map (no network here).

``RecordApp.handle(call)`` turns one request into an ``Answer``; ``server.py`` carries it
over HTTP. Every answer is JSON in the spec's shapes: the token endpoint's ``TokenError``,
the entries' ``Error``; an unknown path is 404 and a method a path does not take (TRACE,
OPTIONS, ...) 405 with ``Allow``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, unquote

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from . import faults as fault_rules
from . import validation as v
from .answers import Answer, Reply, Stopped
from .faults import Faults
from .oauth import Tokens, token_error
from .store import API, Store

log = logging.getLogger("reference_record")

_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "DELETE")
_CPR_IN_TEXT = re.compile(r"(?<!\d)(\d{6})-?\d{4}(?!\d)")


def mask_cpr_in_text(text: str) -> str:
    """Anything that looks like a CPR number becomes ``DDMMYY-XXXX`` (for log lines)."""
    return _CPR_IN_TEXT.sub(r"\1-XXXX", text)


@dataclass
class Call:
    """One request as the handlers see it. ``body_problem``: the body could not be read
    (chunked, a bad or too large Content-Length); it is raised when a handler reads it."""
    method: str
    path: str
    query: str
    headers: Message
    body: bytes = b""
    body_problem: v.ContractError | None = None

    def read_body(self) -> bytes:
        if self.body_problem is not None:
            raise self.body_problem
        return self.body

    def single(self, name: str) -> str | None:
        values = self.headers.get_all(name) or []
        if len(values) > 1:
            raise v.ContractError(name, "given more than once")
        return values[0] if values else None


URLS = Map([
    Rule("/oauth2/token", methods=["POST"], endpoint="token"),
    Rule(f"{API}/entries", methods=["POST"], endpoint="create"),
    Rule(f"{API}/entries/by-request/<request_id>", methods=["GET"], endpoint="get_by_request"),
    Rule(f"{API}/entries/<record_id>", methods=["GET"], endpoint="get"),
    Rule(f"{API}/entries/<record_id>", methods=["PUT"], endpoint="update"),
    Rule(f"{API}/entries/<record_id>", methods=["DELETE"], endpoint="cancel"),
    # Inspection (no token, not part of the contract).
    Rule("/_faults", methods=["GET", "POST"], endpoint="faults"),
    Rule("/_records", methods=["GET"], endpoint="records"),
    Rule("/_stats", methods=["GET"], endpoint="stats"),
    Rule("/_reset", methods=["POST"], endpoint="reset"),
    Rule("/_health", methods=["GET"], endpoint="health"),
], merge_slashes=False, redirect_defaults=False)


class RecordApp:
    """The service's state (store, tokens, faults, counters) and its handlers."""

    def __init__(self, client_id: str, client_secret: str, token_ttl: float,
                 faults: dict[str, Any] | None = None) -> None:
        self.tokens = Tokens(client_id, client_secret, token_ttl)
        self.stopping = threading.Event()  # wakes requests sleeping in the latency fault
        self.faults = Faults(self.stopping)
        self.store: Store | None = None
        self._urls = URLS.bind("reference-record")
        self._counters_lock = threading.Lock()
        self._responses: Counter[str] = Counter()
        self.set_faults(**(faults or {}))

    # -- state ---------------------------------------------------------------------------
    def open(self, db_path: str) -> None:
        self.stopping.clear()
        self.store = Store(db_path)

    def close(self) -> None:
        self.stopping.set()
        if self.store is not None:
            self.store.close()  # a request still running gets Stopped and no answer
            self.store = None

    def _store(self) -> Store:
        store = self.store
        if store is None:
            raise Stopped
        return store

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Change some faults (others stay); ``ValueError`` on unknown keys or values.

        ``expire_tokens_now=True`` invalidates every token issued so far (one-shot);
        ``seed`` restarts the random generator that decides which requests fail.
        """
        clean = fault_rules.check(faults)
        if clean.pop("expire_tokens_now", False):
            self.tokens.expire_all()
            self.faults.count("tokensExpired")
            log.info("fault: all tokens expired")
        current = self.faults.update(clean)
        if clean:
            log.info("faults now %s", current)
        return current

    def cpr_hash(self, cpr: str) -> str:
        return self._store().cpr_hash(v.cpr(cpr))

    def records(self, cpr: str | None = None, cpr_hash: str | None = None) -> list[dict[str, Any]]:
        if cpr is not None:
            cpr_hash = self.cpr_hash(cpr)
        return self._store().records(cpr_hash)

    def stats(self) -> dict[str, Any]:
        counts = self._store().counts()
        with self._counters_lock:
            responses = dict(sorted(self._responses.items()))
        return {**counts, "responses": responses,
                "faultsApplied": self.faults.counts(),
                "tokensIssued": self.tokens.issued}

    def reset(self) -> None:
        self._store().wipe()
        with self._counters_lock:
            self._responses.clear()
        self.faults.clear_counts()
        self.tokens.issued = 0

    def count_response(self, status: int) -> None:
        with self._counters_lock:
            self._responses[str(status)] += 1

    # -- dispatch ------------------------------------------------------------------------
    def handle(self, call: Call) -> Answer:
        try:
            endpoint, args = self._urls.match(unquote(call.path), call.method)
        except NotFound:
            return Answer(404, {"errorCode": "NOT_FOUND", "message": "no such path"})
        except MethodNotAllowed as exc:
            allowed = [m for m in _METHOD_ORDER if m in (exc.valid_methods or ())]
            return Answer(405, {"errorCode": "METHOD_NOT_ALLOWED"}, {"Allow": ", ".join(allowed)})
        try:
            return getattr(self, f"_on_{endpoint}")(call, **args)
        except Reply as reply:
            return reply.answer
        except v.ContractError as exc:
            return Answer(400, exc.body())

    # -- OAuth2 --------------------------------------------------------------------------
    def _on_token(self, call: Call) -> Answer:
        try:
            body = call.read_body()
        except v.ContractError as exc:
            return token_error(400, "invalid_request", exc.message)
        return self.tokens.endpoint(call.headers.get("Authorization"), body)

    # -- the contract --------------------------------------------------------------------
    def _admit(self, call: Call) -> tuple[str, str, bool]:
        """Latency, token (401), 429, 500/503, then the headers (400). Returns the request
        id, the CPR number and whether to drop the connection after storing."""
        f, rolls = self.faults.roll()
        self.faults.delay(f)
        self.tokens.check(call.headers.get("Authorization"))
        drop = self.faults.fail(f, rolls)
        request_id = v.request_id(call.single(v.REQUEST_ID_HEADER))
        cpr = v.cpr(call.single(v.CPR_HEADER))
        return request_id, cpr, drop

    def _dropped(self, call: Call, answer: Answer, drop: bool) -> Answer:
        if drop:  # the change is committed; the answer never arrives
            log.info("fault: dropped the connection after storing %s %s", call.method,
                     mask_cpr_in_text(call.path))
            self.faults.count("dropped")
            answer.drop = True
        return answer

    def _on_create(self, call: Call) -> Answer:
        request_id, cpr, drop = self._admit(call)
        answer = self._store().create(request_id, cpr, lambda: v.entry(call.read_body()))
        return self._dropped(call, answer, drop)

    def _on_update(self, call: Call, record_id: str) -> Answer:
        request_id, cpr, drop = self._admit(call)
        answer = self._store().update(request_id, cpr, record_id,
                                      lambda: v.entry(call.read_body()))
        return self._dropped(call, answer, drop)

    def _on_cancel(self, call: Call, record_id: str) -> Answer:
        request_id, cpr, drop = self._admit(call)
        return self._dropped(call, self._store().cancel(request_id, cpr, record_id), drop)

    def _on_get(self, call: Call, record_id: str) -> Answer:
        _, cpr, _ = self._admit(call)  # reads are never dropped
        return self._store().get(cpr, record_id)

    def _on_get_by_request(self, call: Call, request_id: str) -> Answer:
        _, cpr, _ = self._admit(call)
        return self._store().get_by_request(cpr, v.request_id(request_id, field="requestId"))

    # -- inspection ----------------------------------------------------------------------
    def _on_faults(self, call: Call) -> Answer:
        if call.method == "POST":
            self.set_faults(**v.parse_json_object(call.read_body()))
        return Answer(200, self.faults.current)

    def _on_records(self, call: Call) -> Answer:
        params = parse_qs(call.query)
        if "cpr" in params:  # CPR numbers never travel in URLs (they end up in logs)
            raise v.ContractError("cpr", "not in the URL: send the "
                                  "x-civilRegistrationIdentifier header or ?cprHash=")
        cpr_header = call.headers.get(v.CPR_HEADER)
        return Answer(200, self.records(cpr=v.cpr(cpr_header) if cpr_header is not None else None,
                                        cpr_hash=(params.get("cprHash") or [None])[0]))

    def _on_stats(self, call: Call) -> Answer:
        return Answer(200, self.stats())

    def _on_reset(self, call: Call) -> Answer:
        self.reset()
        return Answer(200, self.stats())

    def _on_health(self, call: Call) -> Answer:
        return Answer(200, {"status": "ok"})
