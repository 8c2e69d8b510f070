"""Gateways to the municipal record: ``http`` (the REST contract), ``export``, ``none``.

A gateway only talks to the outside; it never touches the database. The relay turns
each ``Outcome`` into the activity's record state.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
import requests.auth
from requests.adapters import HTTPAdapter

log = logging.getLogger("joblog.record")


class Op(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    CANCEL = "cancel"


class Result(enum.StrEnum):
    DONE = "done"
    RETRY = "retry"  # transient: 5xx, 429, 401 after one refresh, 409, network errors
    FAILED = "failed"  # the record refused it: staff must act


class _Bearer(requests.auth.AuthBase):
    """The OAuth2 bearer token as requests' ``auth``: a plain Authorization header would be
    replaced by credentials from the worker user's ~/.netrc (requests reads it whenever no
    ``auth`` is given), and every call would then be refused."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


@dataclass(frozen=True)
class Delivery:
    op: Op
    request_id: str  # x-requestId: the activity's UUID (create) or derived from it
    cpr: str = field(repr=False)  # never in a log line or a traceback's repr
    record_id: str | None
    body: dict[str, Any] | None
    lookup_request_id: str  # the create's request id, to find a record after a lost answer
    citizen_label: str = ""  # for export files only
    month: str = ""  # YYYY-MM, for export files only


@dataclass(frozen=True)
class Outcome:
    result: Result
    record_id: str | None = None
    retry_after: float | None = None
    reason: str | None = None


class RecordGateway(Protocol):
    def deliver(self, delivery: Delivery) -> Outcome: ...


class NoGateway:
    """The municipality has no record integration yet: entries wait, visibly."""

    def deliver(self, delivery: Delivery) -> Outcome:  # pragma: no cover - never called
        raise RuntimeError("the relay keeps entries waiting when there is no gateway")


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _error_reason(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    code = data.get("errorCode") or data.get("error") or "ERROR"
    field = data.get("field")
    return f"HTTP {response.status_code} {code}" + (f" ({field})" if field else "")


class HttpGateway:
    """The REST contract in docs/record-api.openapi.yaml, with OAuth2 client credentials.

    The token is cached until shortly before it expires and refreshed once on a 401.
    Thread-safe: the relay sends from a few threads at once.
    """

    def __init__(self, base_url: str, client_id: str, client_secret: str,
                 token_url: str = "", timeout: float = 10.0, pool_size: int = 8) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_url = token_url or f"{self.base_url}/oauth2/token"
        self.client_id, self.client_secret = client_id, client_secret
        self.timeout = timeout
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = threading.Lock()
        self.token_requests = 0  # for tests and figures

    # -- token ---------------------------------------------------------------
    def _get_token(self, stale: str | None = None) -> str:
        with self._lock:
            if self._token and self._token != stale and time.monotonic() < self._token_expires:
                return self._token
            self.token_requests += 1
            r = self.session.post(
                self.token_url, timeout=self.timeout,
                data={"grant_type": "client_credentials", "scope": "joblog.write"},
                auth=(self.client_id, self.client_secret),
            )
            if r.status_code != 200:
                raise TokenError(_error_reason(r), _retry_after(r))
            data = r.json()
            self._token = str(data["access_token"])
            self._token_expires = time.monotonic() + max(0, int(data.get("expires_in", 60)) - 30)
            return self._token

    def _call(self, method: str, path: str, delivery: Delivery,
              json: dict[str, Any] | None = None) -> requests.Response:
        token = self._get_token()
        for attempt in range(2):
            r = self.session.request(
                method, self.base_url + path, json=json, timeout=self.timeout,
                auth=_Bearer(token),
                headers={"x-requestId": delivery.request_id,
                         "x-civilRegistrationIdentifier": delivery.cpr},
            )
            if r.status_code != 401 or attempt:
                return r
            token = self._get_token(stale=token)  # expired: refresh once, then try again
        return r  # pragma: no cover

    # -- operations ----------------------------------------------------------
    def deliver(self, delivery: Delivery) -> Outcome:
        try:
            if delivery.op == Op.CREATE:
                return self._create(delivery)
            if delivery.op == Op.UPDATE:
                return self._update(delivery)
            return self._cancel(delivery)
        except TokenError as exc:
            log.error("record token refused: %s", exc.reason)
            return Outcome(Result.RETRY, retry_after=exc.retry_after, reason=exc.reason)
        except requests.RequestException as exc:
            # Includes a connection dropped after the record stored the entry: the retry
            # repeats the request id, gets 412 and resolves to the stored record.
            return Outcome(Result.RETRY, reason=f"network: {type(exc).__name__}")

    def _create(self, d: Delivery) -> Outcome:
        r = self._call("POST", "/joblog/v1/entries", d, json=d.body)
        if r.status_code == 201:
            return Outcome(Result.DONE, record_id=str(r.json()["recordId"]))
        if r.status_code == 412:
            return self._resolve(d)
        return self._other(r)

    def _resolve(self, d: Delivery) -> Outcome:
        r = self._call("GET", f"/joblog/v1/entries/by-request/{d.lookup_request_id}", d)
        if r.status_code == 200:
            return Outcome(Result.DONE, record_id=str(r.json()["recordId"]))
        return Outcome(Result.RETRY, reason=f"repeated request id, lookup gave HTTP {r.status_code}")

    def _update(self, d: Delivery) -> Outcome:
        r = self._call("PUT", f"/joblog/v1/entries/{d.record_id}", d, json=d.body)
        if r.status_code in (200, 204, 412):  # 412: this very update already arrived
            return Outcome(Result.DONE, record_id=d.record_id)
        return self._other(r)

    def _cancel(self, d: Delivery) -> Outcome:
        record_id = d.record_id
        if record_id is None:
            # Deleted before we knew whether the create arrived: look it up first.
            r = self._call("GET", f"/joblog/v1/entries/by-request/{d.lookup_request_id}", d)
            if r.status_code == 404:
                return Outcome(Result.DONE)
            if r.status_code != 200:
                return self._other(r)
            record_id = str(r.json()["recordId"])
        r = self._call("DELETE", f"/joblog/v1/entries/{record_id}", d)
        if r.status_code in (200, 204, 404, 410, 412):
            return Outcome(Result.DONE, record_id=record_id)
        return self._other(r)

    def _other(self, r: requests.Response) -> Outcome:
        if r.status_code in (401, 409, 429) or r.status_code >= 500:
            return Outcome(Result.RETRY, retry_after=_retry_after(r), reason=_error_reason(r))
        return Outcome(Result.FAILED, reason=_error_reason(r))


class TokenError(Exception):
    def __init__(self, reason: str, retry_after: float | None) -> None:
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after
