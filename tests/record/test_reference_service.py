"""The reference record service over real HTTP on 127.0.0.1 (stdlib http.client only)."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from devtools.reference_record import ReferenceRecordService

SECRET = "test-secret"
CPR = "0703851234"  # no valid modulus-11 check digit: must be accepted
OTHER_CPR = "1508921111"
ENTRIES = "/joblog/v1/entries"
DROPPED = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)

APPLICATION = {
    "kind": "JOB_APPLICATION", "date": "2025-03-04", "employer": "Netto",
    "title": "Kassemedarbejder", "status": "APPLIED", "method": "ADVERTISED",
    "adUrl": "https://job.example/1", "deadline": "2025-03-20", "place": "Aarhus",
    "contactPerson": None, "description": None, "municipalityCode": "751", "enteredBy": "CITIZEN",
}


def _mod11_ok(cpr: str) -> bool:
    return sum(int(d) * w for d, w in zip(cpr, (4, 3, 2, 7, 6, 5, 4, 3, 2, 1), strict=True)) % 11 == 0


class Client:
    """One keep-alive connection; reconnects after the server dropped it."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "", parts.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
        self.token = ""

    def close(self) -> None:
        self.conn.close()

    def raw(self, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, Any]:
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            response = self.conn.getresponse()
        except Exception:
            self.conn.close()  # the next request opens a fresh connection
            raise
        data = response.read()
        assert response.getheader("Content-Length") == str(len(data)) or response.status == 204
        return response.status, response.headers, json.loads(data) if data else None

    def fetch_token(self, **form: str) -> tuple[int, Any]:
        form = form or {"grant_type": "client_credentials", "client_id": "joblog",
                        "client_secret": SECRET, "scope": "joblog.write"}
        status, _, data = self.raw("POST", "/oauth2/token", urlencode(form).encode(),
                                   {"Content-Type": "application/x-www-form-urlencoded"})
        if status == 200:
            self.token = data["access_token"]
        return status, data

    def call(self, method: str, path: str, body: Any = None, *, request_id: str | None = "r-1",
             cpr: str | None = CPR, token: str | None = None, raw_body: bytes | None = None,
             ) -> tuple[int, http.client.HTTPMessage, Any]:
        headers = {"Authorization": f"Bearer {self.token if token is None else token}"}
        if request_id is not None:
            headers["x-requestId"] = request_id
        if cpr is not None:
            headers["x-civilRegistrationIdentifier"] = cpr
        if body is not None:
            raw_body = json.dumps(body).encode()
        if raw_body is not None:
            headers["Content-Type"] = "application/json"
        return self.raw(method, path, raw_body, headers)

    def post(self, body: Any, request_id: str, **kw: Any) -> tuple[int, Any]:
        status, _, data = self.call("POST", ENTRIES, body, request_id=request_id, **kw)
        return status, data


@pytest.fixture
def service(tmp_path) -> Iterator[ReferenceRecordService]:  # type: ignore[no-untyped-def]
    with ReferenceRecordService(str(tmp_path / "record.sqlite"), client_secret=SECRET,
                                faults={"seed": 7}) as svc:
        yield svc


@pytest.fixture
def client(service: ReferenceRecordService) -> Iterator[Client]:
    c = Client(service.url)
    assert c.fetch_token()[0] == 200
    yield c
    c.close()


# -- OAuth2 -------------------------------------------------------------------------------

def test_token_by_form_and_by_basic_auth(service):  # type: ignore[no-untyped-def]
    c = Client(service.url)
    status, data = c.fetch_token()
    assert status == 200
    assert data["token_type"] == "Bearer" and data["expires_in"] == 300
    assert data["scope"] == "joblog.write" and len(data["access_token"]) >= 32
    basic = base64.b64encode(f"joblog:{SECRET}".encode()).decode()
    status, headers, data = c.raw("POST", "/oauth2/token", b"grant_type=client_credentials",
                                  {"Authorization": f"Basic {basic}",
                                   "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and headers["Cache-Control"] == "no-store" and data["access_token"]
    assert data["access_token"] != c.token  # random
    assert c.fetch_token(grant_type="client_credentials", client_id="joblog",
                         client_secret="wrong") == (401, {"error": "invalid_client"})
    assert c.fetch_token(grant_type="client_credentials", client_id="other",
                         client_secret=SECRET)[0] == 401
    assert c.fetch_token(grant_type="password", client_id="joblog",
                         client_secret=SECRET)[1]["error"] == "unsupported_grant_type"
    assert c.fetch_token(grant_type="client_credentials", client_id="joblog",
                         client_secret=SECRET, scope="admin")[1]["error"] == "invalid_scope"
    assert c.raw("GET", "/oauth2/token")[0] == 405
    c.close()


def test_missing_unknown_and_expired_tokens_are_401(tmp_path):  # type: ignore[no-untyped-def]
    with ReferenceRecordService(str(tmp_path / "r.sqlite"), client_secret=SECRET,
                                token_ttl=0.5) as svc:
        c = Client(svc.url)
        status, headers, data = c.call("GET", f"{ENTRIES}/x", token="")
        assert status == 401 and data["errorCode"] == "UNAUTHORIZED"
        assert headers["WWW-Authenticate"].startswith("Bearer")
        assert c.call("GET", f"{ENTRIES}/x", token="made-up")[0] == 401
        status, headers, _ = c.raw("GET", f"{ENTRIES}/x", headers={
            "x-requestId": "r-1", "x-civilRegistrationIdentifier": CPR})  # no header at all
        assert status == 401
        c.fetch_token()
        assert c.post(APPLICATION, "before-expiry")[0] == 201
        time.sleep(0.55)
        assert c.post(APPLICATION, "after-expiry")[0] == 401
        assert svc.stats()["records"] == 1  # refused before storing
        c.fetch_token()
        assert c.post(APPLICATION, "after-expiry")[0] == 201
        c.close()


def test_expire_tokens_now_is_one_shot(service, client):  # type: ignore[no-untyped-def]
    assert client.call("GET", f"{ENTRIES}/nothing")[0] == 404
    service.set_faults(expire_tokens_now=True)
    assert client.call("GET", f"{ENTRIES}/nothing")[0] == 401
    assert "expire_tokens_now" not in service.faults  # nothing stays switched on
    client.fetch_token()
    assert client.call("GET", f"{ENTRIES}/nothing")[0] == 404


# -- the contract -------------------------------------------------------------------------

def test_create_then_repeat_is_412_with_the_existing_record(service, client):  # type: ignore[no-untyped-def]
    status, headers, created = client.call("POST", ENTRIES, APPLICATION, request_id="req-1")
    assert status == 201
    assert set(created) == {"recordId", "requestId", "registeredAt", "version"}
    assert created["requestId"] == "req-1" and created["version"] == 1
    assert created["registeredAt"].endswith("Z")
    assert headers["Location"] == f"{ENTRIES}/{created['recordId']}"

    changed = {**APPLICATION, "employer": "Føtex"}  # a repeat is refused whatever its body
    status, data = client.post(changed, "req-1")
    assert status == 412
    assert data["errorCode"] == "DUPLICATE_REQUEST_ID" and data["recordId"] == created["recordId"]
    assert len(service.records()) == 1 and service.records()[0]["employer"] == "Netto"


def test_get_by_request_id_and_by_record_id(service, client):  # type: ignore[no-untyped-def]
    record_id = client.post(APPLICATION, "req-2")[1]["recordId"]
    status, _, record = client.call("GET", f"{ENTRIES}/by-request/req-2", request_id="trace-1")
    assert status == 200
    assert {k: record[k] for k in APPLICATION} == APPLICATION
    assert record["recordId"] == record_id and record["requestId"] == "req-2"
    assert record["cpr"] == "070385-XXXX" and record["version"] == 1
    assert record["cancelled"] is False and record["registeredAt"] == record["updatedAt"]
    assert "cprHash" not in record and CPR not in json.dumps(record)
    assert client.call("GET", f"{ENTRIES}/{record_id}")[2] == record
    assert client.call("GET", f"{ENTRIES}/by-request/unknown")[2] == {"errorCode": "NOT_FOUND"}
    assert client.call("GET", f"{ENTRIES}/no-such-record")[0] == 404
    # Another citizen's record is not found (records are scoped to the CPR number).
    assert client.call("GET", f"{ENTRIES}/{record_id}", cpr=OTHER_CPR)[0] == 404
    assert client.call("GET", f"{ENTRIES}/by-request/req-2", cpr=OTHER_CPR)[0] == 404


def test_update_and_cancel_with_their_repeats(service, client):  # type: ignore[no-untyped-def]
    record_id = client.post(APPLICATION, "c-1")[1]["recordId"]
    path = f"{ENTRIES}/{record_id}"
    update = {**APPLICATION, "status": "INTERVIEW", "title": "Kasse"}
    status, _, data = client.call("PUT", path, update, request_id="u-2")
    assert (status, data) == (200, {"recordId": record_id, "version": 2})
    status, _, data = client.call("PUT", path, {**update, "title": "Other"}, request_id="u-2")
    assert status == 412 and data["recordId"] == record_id
    assert client.call("PUT", f"{ENTRIES}/unknown", update, request_id="u-x")[2] == \
        {"errorCode": "NOT_FOUND"}
    assert client.call("PUT", path, update, request_id="u-y", cpr=OTHER_CPR)[0] == 404
    [record] = service.records()
    assert (record["title"], record["status"], record["version"]) == ("Kasse", "INTERVIEW", 2)

    status, headers, data = client.call("DELETE", path, request_id="d-1")
    assert status == 204 and data is None
    status, _, data = client.call("DELETE", path, request_id="d-1")
    assert status == 412 and data["recordId"] == record_id
    status, _, data = client.call("DELETE", path, request_id="d-2")
    assert status == 410 and data["errorCode"] == "CANCELLED"
    assert client.call("PUT", path, update, request_id="u-3")[0] == 410
    assert client.call("DELETE", f"{ENTRIES}/unknown", request_id="d-3")[0] == 404
    record = client.call("GET", f"{ENTRIES}/by-request/d-1")[2]  # any request id that changed it
    assert record["cancelled"] is True and record["version"] == 3
    assert service.stats()["requestIds"] == 3  # c-1, u-2, d-1: refused calls use up nothing


def test_ten_concurrent_posts_with_one_request_id_make_one_record(service):  # type: ignore[no-untyped-def]
    token = Client(service.url)
    token.fetch_token()
    token.close()
    results: list[int] = []
    barrier = threading.Barrier(10)

    def post() -> None:
        c = Client(service.url)
        c.token = token.token
        barrier.wait()
        results.append(c.post(APPLICATION, "same-id")[0])
        c.close()

    threads = [threading.Thread(target=post) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201] + [412] * 9
    assert len(service.records()) == 1


def test_cpr_without_a_valid_modulus_11_check_digit_is_accepted(client):  # type: ignore[no-untyped-def]
    assert not _mod11_ok(CPR) and not _mod11_ok(OTHER_CPR)
    assert client.post(APPLICATION, "m-1")[0] == 201
    assert client.post(APPLICATION, "m-2", cpr=OTHER_CPR)[0] == 201


def test_every_kind_with_only_its_required_fields_is_accepted(client):  # type: ignore[no-untyped-def]
    minimal = [
        {"kind": "JOB_APPLICATION", "date": "2025-01-31", "employer": "A", "title": "B",
         "status": "GOT_JOB"},
        {"kind": "PLANNED_JOB", "employer": "A", "title": "B", "deadline": "2025-02-28"},
        {"kind": "NETWORK_MEETING", "date": "2024-02-29", "employer": "ISS",
         "contactPerson": "Lars Nielsen"},
        {"kind": "OTHER_ACTIVITY", "date": "2025-01-01", "description": "Jobcafé"},
    ]
    for i, body in enumerate(minimal):
        status, data = client.post({**body, "municipalityCode": "101", "enteredBy": "STAFF"},
                                   f"k-{i}")
        assert status == 201, data
    limits = {**APPLICATION, "employer": "æ" * 250, "title": "t" * 250, "place": "p" * 250,
              "contactPerson": "c" * 250, "description": "d" * 250, "adUrl": "u" * 500}
    assert client.post(limits, "at-the-limits")[0] == 201


def _without(key: str) -> dict[str, Any]:
    return {k: v for k, v in APPLICATION.items() if k != key}


BODY_CASES = [
    ("not json", b"{", "body"),
    ("array", b"[]", "body"),
    ("empty", b"", "body"),
    ("NaN", b'{"kind": NaN}', "body"),
    ("latin-1", '{"employer": "Å"}'.encode("latin-1"), "body"),
    ("unknown field", {**APPLICATION, "cpr": CPR}, "cpr"),
    ("kind missing", _without("kind"), "kind"),
    ("kind unknown", {**APPLICATION, "kind": "COFFEE"}, "kind"),
    ("kind an object", {**APPLICATION, "kind": {}}, "kind"),  # was a 500 (found by schemathesis)
    ("kind a list", {**APPLICATION, "kind": ["JOB_APPLICATION"]}, "kind"),
    ("kind lower case", {**APPLICATION, "kind": "job_application"}, "kind"),
    ("status unknown", {**APPLICATION, "status": "HIRED"}, "status"),
    ("method unknown", {**APPLICATION, "method": "EMAIL"}, "method"),
    ("enteredBy unknown", {**APPLICATION, "enteredBy": "ROBOT"}, "enteredBy"),
    ("enteredBy missing", _without("enteredBy"), "enteredBy"),
    ("municipality missing", _without("municipalityCode"), "municipalityCode"),
    ("municipality short", {**APPLICATION, "municipalityCode": "75"}, "municipalityCode"),
    ("municipality number", {**APPLICATION, "municipalityCode": 751}, "municipalityCode"),
    ("application without date", {**APPLICATION, "date": None}, "date"),
    ("application without employer", _without("employer"), "employer"),
    ("application with blank employer", {**APPLICATION, "employer": "  "}, "employer"),
    ("application without title", {**APPLICATION, "title": None}, "title"),
    ("application without status", {**APPLICATION, "status": None}, "status"),
    ("planned job without employer", {**APPLICATION, "kind": "PLANNED_JOB", "employer": None},
     "employer"),
    ("planned job without title", {**APPLICATION, "kind": "PLANNED_JOB", "title": ""}, "title"),
    ("meeting without employer", {**APPLICATION, "kind": "NETWORK_MEETING", "employer": None},
     "employer"),
    ("meeting without date", {**APPLICATION, "kind": "NETWORK_MEETING", "date": None}, "date"),
    ("other without description", {**APPLICATION, "kind": "OTHER_ACTIVITY"}, "description"),
    ("other without date", {**APPLICATION, "kind": "OTHER_ACTIVITY", "description": "x",
                            "date": None}, "date"),
    ("employer too long", {**APPLICATION, "employer": "x" * 251}, "employer"),
    ("title too long", {**APPLICATION, "title": "x" * 251}, "title"),
    ("place too long", {**APPLICATION, "place": "x" * 251}, "place"),
    ("contact too long", {**APPLICATION, "contactPerson": "x" * 251}, "contactPerson"),
    ("description too long", {**APPLICATION, "description": "x" * 251}, "description"),
    ("adUrl too long", {**APPLICATION, "adUrl": "x" * 501}, "adUrl"),
    ("employer not a string", {**APPLICATION, "employer": 42}, "employer"),
    ("no such day", {**APPLICATION, "date": "2025-02-29"}, "date"),
    ("short year", {**APPLICATION, "date": "25-03-04"}, "date"),
    ("no padding", {**APPLICATION, "date": "2025-3-4"}, "date"),
    ("danish format", {**APPLICATION, "date": "04-03-2025"}, "date"),
    ("date with time", {**APPLICATION, "date": "2025-03-04T10:00:00"}, "date"),
    ("deadline bad", {**APPLICATION, "deadline": "2025-13-01"}, "deadline"),
]


@pytest.mark.parametrize(("case", "body", "field"), BODY_CASES, ids=[c[0] for c in BODY_CASES])
def test_invalid_bodies_are_400_with_the_field(service, client, case, body, field):  # type: ignore[no-untyped-def]
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, _, data = client.call("POST", ENTRIES, raw_body=raw, request_id="v-1")
    assert status == 400, case
    assert data["errorCode"] == "VALIDATION" and data["field"] == field and data["message"]
    assert service.records() == []
    # A refused entry does not use up its request id: fixed data goes through.
    assert client.post(APPLICATION, "v-1")[0] == 201


def test_invalid_body_on_update_is_400_and_changes_nothing(service, client):  # type: ignore[no-untyped-def]
    record_id = client.post(APPLICATION, "p-1")[1]["recordId"]
    status, _, data = client.call("PUT", f"{ENTRIES}/{record_id}",
                                  {**APPLICATION, "status": "?"}, request_id="p-2")
    assert (status, data["field"]) == (400, "status")
    assert service.records()[0]["version"] == 1


HEADER_CASES = [
    ("cpr missing", "ok-1", None, "x-civilRegistrationIdentifier"),
    ("cpr 9 digits", "ok-1", "070385123", "x-civilRegistrationIdentifier"),
    ("cpr 11 digits", "ok-1", "07038512345", "x-civilRegistrationIdentifier"),
    ("cpr with dash", "ok-1", "070385-1234", "x-civilRegistrationIdentifier"),
    ("cpr letters", "ok-1", "07038512ab", "x-civilRegistrationIdentifier"),
    ("cpr empty", "ok-1", "", "x-civilRegistrationIdentifier"),
    ("request id missing", None, CPR, "x-requestId"),
    ("request id empty", "", CPR, "x-requestId"),
    ("request id 47 chars", "a" * 47, CPR, "x-requestId"),
    ("request id underscore", "abc_def", CPR, "x-requestId"),
    ("request id dot", "abc.def", CPR, "x-requestId"),
    ("request id space", "abc def", CPR, "x-requestId"),
]


@pytest.mark.parametrize(("case", "request_id", "cpr", "field"), HEADER_CASES,
                         ids=[c[0] for c in HEADER_CASES])
def test_invalid_headers_are_400_with_the_header_name(service, client, case, request_id, cpr,
                                                      field):  # type: ignore[no-untyped-def]
    status, _, data = client.call("POST", ENTRIES, APPLICATION, request_id=request_id, cpr=cpr)
    assert (status, data["errorCode"], data["field"]) == (400, "VALIDATION", field), case
    if cpr:
        assert cpr not in data["message"]
    assert service.records() == []


def test_request_ids_up_to_46_characters_are_accepted(client):  # type: ignore[no-untyped-def]
    assert client.post(APPLICATION, "A-z-0-9-" + "x" * 38)[0] == 201
    assert client.post(APPLICATION, "1")[0] == 201
    assert client.call("GET", f"{ENTRIES}/by-request/{'x' * 47}")[2]["field"] == "requestId"


def test_unknown_paths_and_methods(client):  # type: ignore[no-untyped-def]
    assert client.call("GET", "/joblog/v2/entries")[0] == 404
    assert client.call("GET", f"{ENTRIES}/a/b/c")[0] == 404
    status, headers, data = client.call("PATCH", f"{ENTRIES}/abc", APPLICATION)
    assert (status, headers["Allow"], data["errorCode"]) == (405, "GET, HEAD, PUT, DELETE",
                                                             "METHOD_NOT_ALLOWED")
    assert client.call("GET", ENTRIES)[0] == 405


def test_keep_alive_and_content_length(service, client):  # type: ignore[no-untyped-def]
    client.post(APPLICATION, "ka-1")
    sock = client.conn.sock
    status, headers, _ = client.call("GET", f"{ENTRIES}/by-request/ka-1")
    assert status == 200 and client.conn.sock is sock  # same connection
    status, headers, _ = client.call("DELETE", f"{ENTRIES}/{service.records()[0]['recordId']}",
                                     request_id="ka-2")
    assert status == 204 and client.conn.sock is sock
    assert client.call("GET", f"{ENTRIES}/by-request/ka-1")[0] == 200


# -- faults -------------------------------------------------------------------------------

def test_latency_is_added_to_record_calls_only(service, client):  # type: ignore[no-untyped-def]
    service.set_faults(latency_ms=200)
    started = time.monotonic()
    assert client.post(APPLICATION, "lat-1")[0] == 201
    assert time.monotonic() - started >= 0.2
    service.set_faults(latency_ms=5000)  # were it applied below, this test would take 20 s
    started = time.monotonic()
    client.fetch_token()
    client.raw("GET", "/_stats")
    client.raw("GET", "/_records")
    client.raw("GET", "/_faults")
    assert time.monotonic() - started < 2


def _outcomes(client: Client, n: int, prefix: str) -> list[int]:
    return [client.post(APPLICATION, f"{prefix}-{i}")[0] for i in range(n)]


def test_error_rate_answers_500_and_503_before_storing(service, client):  # type: ignore[no-untyped-def]
    service.set_faults(error_rate=0.5, seed=42)
    first = _outcomes(client, 40, "e")
    counts = Counter(first)
    assert set(counts) == {201, 500, 503}
    assert 8 <= counts[201] <= 32
    assert len(service.records()) == counts[201]  # failures stored nothing
    service.set_faults(seed=42)
    service.reset()
    assert _outcomes(client, 40, "e") == first  # the same seed tells the same story
    service.set_faults(error_rate=1.0)
    status, _, data = client.call("GET", f"{ENTRIES}/by-request/e-0")
    assert status in (500, 503) and data["errorCode"] in ("INTERNAL_ERROR", "UNAVAILABLE")


def test_rate_limit_answers_429_with_retry_after(service, client):  # type: ignore[no-untyped-def]
    service.set_faults(rate_limit_rate=1.0, retry_after=7)
    status, headers, data = client.call("POST", ENTRIES, APPLICATION, request_id="rl-1")
    assert (status, headers["Retry-After"], data["errorCode"]) == (429, "7", "RATE_LIMITED")
    assert service.records() == []
    # Never on the token, fault and inspection endpoints.
    service.set_faults(error_rate=1.0, latency_ms=0, drop_after_store_rate=1.0)
    assert client.fetch_token()[0] == 200
    assert client.raw("GET", "/_records")[0] == 200
    assert client.raw("GET", "/_stats")[0] == 200
    assert client.raw("POST", "/_reset")[0] == 200
    assert client.raw("POST", "/_faults", json.dumps({
        "rate_limit_rate": 0.0, "error_rate": 0.0, "drop_after_store_rate": 0.0}).encode())[0] == 200
    assert client.post(APPLICATION, "rl-1")[0] == 201  # a 429 did not use up the request id


def test_default_retry_after_is_one_second(service, client):  # type: ignore[no-untyped-def]
    service.set_faults(rate_limit_rate=1.0)
    assert client.call("POST", ENTRIES, APPLICATION)[1]["Retry-After"] == "1"


def test_dropped_after_store_then_retry_resolves_to_the_one_record(service, client):  # type: ignore[no-untyped-def]
    service.set_faults(drop_after_store_rate=1.0)
    with pytest.raises(DROPPED):
        client.post(APPLICATION, "drop-1")
    [stored] = service.records()  # stored although the client never heard back
    assert stored["requestId"] == "drop-1"
    service.set_faults(drop_after_store_rate=0.0)
    status, data = client.post(APPLICATION, "drop-1")  # the client's retry
    assert (status, data["recordId"]) == (412, stored["recordId"])
    status, _, record = client.call("GET", f"{ENTRIES}/by-request/drop-1")
    assert (status, record["recordId"]) == (200, stored["recordId"])
    assert len(service.records()) == 1
    assert service.stats()["faultsApplied"]["dropped"] == 1


def test_dropped_update_and_cancel_are_stored_too(service, client):  # type: ignore[no-untyped-def]
    record_id = client.post(APPLICATION, "dd-1")[1]["recordId"]
    path = f"{ENTRIES}/{record_id}"
    service.set_faults(drop_after_store_rate=1.0)
    with pytest.raises(DROPPED):
        client.call("PUT", path, {**APPLICATION, "status": "REJECTED"}, request_id="dd-2")
    with pytest.raises(DROPPED):
        client.call("DELETE", path, request_id="dd-3")
    assert client.call("GET", path)[0] == 200  # reads are never dropped
    service.set_faults(drop_after_store_rate=0.0)
    assert client.call("PUT", path, APPLICATION, request_id="dd-2")[0] == 412
    assert client.call("DELETE", path, request_id="dd-3")[0] == 412
    [record] = service.records()
    assert (record["status"], record["cancelled"], record["version"]) == ("REJECTED", True, 3)


def test_faults_endpoint_reads_changes_and_validates(service, client):  # type: ignore[no-untyped-def]
    status, _, faults = client.raw("GET", "/_faults")
    assert status == 200 and faults == {"latency_ms": 0, "error_rate": 0.0,
                                        "rate_limit_rate": 0.0, "retry_after": 1,
                                        "drop_after_store_rate": 0.0, "seed": 7}
    status, _, faults = client.raw("POST", "/_faults", b'{"error_rate": 0.25, "retry_after": 3}')
    assert (status, faults["error_rate"], faults["retry_after"]) == (200, 0.25, 3)
    assert service.faults["error_rate"] == 0.25
    for bad, field in [(b'{"error_rate": 2}', "error_rate"), (b'{"nope": 1}', "nope"),
                       (b'{"latency_ms": -1}', "latency_ms"), (b"[", "body"),
                       (b'{"expire_tokens_now": "yes"}', "expire_tokens_now")]:
        status, _, data = client.raw("POST", "/_faults", bad)
        assert (status, data["errorCode"], data["field"]) == (400, "VALIDATION", field)
    with pytest.raises(ValueError):
        service.set_faults(drop_after_store_rate=-0.1)
    assert service.faults["error_rate"] == 0.25  # a refused change changes nothing


# -- persistence, inspection, logs ----------------------------------------------------------

def test_records_and_request_ids_survive_a_restart(tmp_path):  # type: ignore[no-untyped-def]
    path = str(tmp_path / "record.sqlite")
    with ReferenceRecordService(path, client_secret=SECRET) as first:
        c = Client(first.url)
        c.fetch_token()
        record_id = c.post(APPLICATION, "keep-1")[1]["recordId"]
        c.close()
        cpr_hash = first.cpr_hash(CPR)
    with ReferenceRecordService(path, client_secret=SECRET) as second:
        c = Client(second.url)
        c.fetch_token()  # tokens live in memory only
        assert [r["recordId"] for r in second.records()] == [record_id]
        assert second.cpr_hash(CPR) == cpr_hash  # the hash key lives in the file
        assert c.post(APPLICATION, "keep-1") == (412, {
            "errorCode": "DUPLICATE_REQUEST_ID", "recordId": record_id,
            "message": "this x-requestId was already used"})
        assert c.call("GET", f"{ENTRIES}/by-request/keep-1")[2]["recordId"] == record_id
        c.close()


def test_inspection_records_stats_and_reset(service, client):  # type: ignore[no-untyped-def]
    client.post(APPLICATION, "i-1")
    client.post(APPLICATION, "i-2")  # the same entry delivered twice: a duplicate
    client.post({**APPLICATION, "status": "INTERVIEW"}, "i-3")
    client.post(APPLICATION, "i-4", cpr=OTHER_CPR)  # same content, other citizen: no duplicate
    record_id = service.records()[2]["recordId"]
    client.call("DELETE", f"{ENTRIES}/{record_id}", request_id="i-5")

    stats = service.stats()
    assert {k: stats[k] for k in ("records", "active", "cancelled", "requestIds", "duplicates")} \
        == {"records": 4, "active": 3, "cancelled": 1, "requestIds": 5, "duplicates": 1}
    assert stats["byKind"] == {"JOB_APPLICATION": 4}
    assert stats["byStatus"] == {"APPLIED": 3, "INTERVIEW": 1}
    assert stats["responses"]["201"] == 4 and stats["tokensIssued"] == 1
    assert client.raw("GET", "/_stats")[2]["records"] == 4

    status, _, records = client.raw("GET", "/_records")
    assert status == 200 and [r["requestId"] for r in records] == ["i-1", "i-2", "i-3", "i-4"]
    assert all(r["cpr"] in ("070385-XXXX", "150892-XXXX") and r["cprHash"] for r in records)
    assert CPR not in json.dumps(records) and OTHER_CPR not in json.dumps(records)
    mine = client.raw("GET", "/_records", headers={"x-civilRegistrationIdentifier": CPR})[2]
    assert [r["requestId"] for r in mine] == ["i-1", "i-2", "i-3"]
    theirs = client.raw("GET", f"/_records?cprHash={service.cpr_hash(OTHER_CPR)}")[2]
    assert [r["requestId"] for r in theirs] == ["i-4"] == [r["requestId"] for r in
                                                           service.records(cpr=OTHER_CPR)]
    status, _, data = client.raw("GET", f"/_records?cpr={CPR}")
    assert (status, data["field"]) == (400, "cpr")  # never in a URL

    assert client.raw("POST", "/_reset")[0] == 200
    assert service.records() == [] and service.stats()["requestIds"] == 0
    assert client.post(APPLICATION, "i-1")[0] == 201  # request ids are forgotten too


def test_logs_never_show_a_cpr_number(service, client, caplog):  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO, logger="reference_record")
    client.post(APPLICATION, "log-1")
    client.call("GET", f"{ENTRIES}/{CPR}")  # even someone putting one in a URL
    client.post(APPLICATION, "log-2", cpr="0703851")
    service.set_faults(drop_after_store_rate=1.0)
    with pytest.raises(DROPPED):
        client.post(APPLICATION, "log-3")
    deadline = time.monotonic() + 2
    while "dropped" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "POST /joblog/v1/entries" in caplog.text and "070385-XXXX" in caplog.text
    assert "dropped" in caplog.text
    assert CPR not in caplog.text and "0703851" not in caplog.text


def test_stop_does_not_wait_for_slow_requests(tmp_path):  # type: ignore[no-untyped-def]
    svc = ReferenceRecordService(str(tmp_path / "r.sqlite"), client_secret=SECRET,
                                 faults={"latency_ms": 30_000}).start()
    c = Client(svc.url)
    c.fetch_token()
    errors: list[BaseException] = []

    def slow() -> None:
        try:
            c.post(APPLICATION, "slow-1")
        except Exception as exc:  # the server goes away under the request
            errors.append(exc)

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.1)
    started = time.monotonic()
    svc.stop()
    t.join(timeout=5)
    c.close()
    assert time.monotonic() - started < 2 and errors
    with ReferenceRecordService(str(tmp_path / "r.sqlite")) as again:
        assert again.records() == []  # latency comes before storing


def test_the_product_never_imports_the_reference_service():  # type: ignore[no-untyped-def]
    """A development tool, outside joblog_app's import graph (docs/reference-record-service.md)."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "joblog_app"
    offenders = []
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            offenders += [f"{source.name}: {name}" for name in names
                          if name.startswith("devtools") or "reference_" in name]
    assert offenders == []
