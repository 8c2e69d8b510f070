"""The record contract (docs/record-api.openapi.yaml) checked from both sides, over HTTP.

1. The gateway's real requests and the reference service's real answers, validated against
   the spec with openapi-core: every request ``HttpGateway`` sends while it creates,
   repeats, resolves, updates and cancels entries and meets faults (401 after expired
   tokens, 429, 500/503, refused entries).
2. A schemathesis run against the running service with every check (examples, coverage
   and fuzzing phases; derandomized; bounded in examples).
3. The findings of that run, each as a plain test.
"""

from __future__ import annotations

import http.client
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from devtools.reference_record import ReferenceRecordService
from devtools.reference_record.validation import NOT_BLANK_PATTERN
from joblog_app.record.gateway import Delivery, HttpGateway, Op, Result

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "docs" / "record-api.openapi.yaml"
SECRET = "contract-secret"
CPR = "0703851234"
ENTRY = {"kind": "JOB_APPLICATION", "date": "2025-03-04", "employer": "Netto",
         "title": "Kassemedarbejder", "status": "APPLIED", "method": "ADVERTISED", "adUrl": None,
         "deadline": None, "place": "Aarhus", "contactPerson": None, "description": None,
         "municipalityCode": "751", "enteredBy": "CITIZEN"}


def spec_for(url: str) -> dict[str, Any]:
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    spec["servers"] = [{"url": url}]  # the service listens on a free port
    return spec


@pytest.fixture
def service(tmp_path) -> Iterator[ReferenceRecordService]:  # type: ignore[no-untyped-def]
    with ReferenceRecordService(str(tmp_path / "record.sqlite"), client_secret=SECRET,
                                faults={"seed": 3}) as svc:
        yield svc


# -- 1. the gateway and the service, validated by openapi-core ----------------------------

class Recorder:
    """Every request the gateway sends and the answer it got, as requests saw them."""

    def __init__(self, gateway: HttpGateway) -> None:
        self.exchanges: list[requests.Response] = []
        gateway.session.hooks["response"].append(self._hook)

    def _hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.exchanges.append(response)


def _delivery(op: Op, request_id: str, record_id: str | None = None,
              body: dict[str, Any] | None = None, lookup: str | None = None) -> Delivery:
    return Delivery(op=op, request_id=request_id, cpr=CPR, record_id=record_id, body=body,
                    lookup_request_id=lookup or request_id)


# openapi-core checks HTTP security schemes but not OAuth2 ones ("Unsupported scheme type"):
# the bearer token is asserted by hand below.
@pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")
def test_the_gateways_requests_and_the_services_answers_follow_the_spec(service):  # type: ignore[no-untyped-def]
    openapi = OpenAPI.from_dict(spec_for(service.url))
    gateway = HttpGateway(service.url, "joblog", SECRET, timeout=5)
    recorder = Recorder(gateway)

    created = gateway.deliver(_delivery(Op.CREATE, "c-1", body=ENTRY))
    assert created.result == Result.DONE and created.record_id
    # The answer to the create was lost: the retry meets 412 and resolves by request id.
    assert gateway.deliver(_delivery(Op.CREATE, "c-1", body=ENTRY)).record_id == created.record_id
    changed = {**ENTRY, "status": "INTERVIEW"}
    assert gateway.deliver(_delivery(Op.UPDATE, "u-1", created.record_id, changed,
                                     "c-1")).result == Result.DONE
    assert gateway.deliver(_delivery(Op.UPDATE, "u-1", created.record_id, changed,
                                     "c-1")).result == Result.DONE  # 412: already there
    # An entry the spec refuses (blank employer): only the answer is checked below.
    refused = gateway.deliver(_delivery(Op.CREATE, "c-2", body={**ENTRY, "employer": " \t"}))
    assert refused.result == Result.FAILED and refused.reason == "HTTP 400 VALIDATION (employer)"
    service.set_faults(expire_tokens_now=True)  # 401, a new token, the call again
    assert gateway.deliver(_delivery(Op.CREATE, "c-3", body=ENTRY)).result == Result.DONE
    service.set_faults(rate_limit_rate=1.0, retry_after=2)
    limited = gateway.deliver(_delivery(Op.CREATE, "c-4", body=ENTRY))
    assert (limited.result, limited.retry_after) == (Result.RETRY, 2)
    service.set_faults(rate_limit_rate=0.0, error_rate=1.0)
    for n in range(4):  # 500 and 503, by the seeded dice
        assert gateway.deliver(_delivery(Op.CREATE, f"c-5{n}", body=ENTRY)).result == Result.RETRY
    service.set_faults(error_rate=0.0)
    # Deleted before the create's answer came: looked up first (404: nothing to cancel).
    assert gateway.deliver(_delivery(Op.CANCEL, "d-0", lookup="never-sent")).result == Result.DONE
    assert gateway.deliver(_delivery(Op.CANCEL, "d-1", lookup="c-1")).result == Result.DONE
    assert gateway.deliver(_delivery(Op.CANCEL, "d-2", created.record_id)).result == Result.DONE
    wrong = HttpGateway(service.url, "joblog", "not-the-secret", timeout=5)
    wrong.session.hooks["response"].append(recorder._hook)  # its refused token request
    assert wrong.deliver(_delivery(Op.CREATE, "c-6", body=ENTRY)).result == Result.RETRY

    seen = {(r.request.method, urlsplit(r.request.url).path.rsplit("/", 1)[0], r.status_code)
            for r in recorder.exchanges}
    statuses = {status for *_, status in seen}
    assert {200, 201, 204, 400, 401, 404, 412, 429, 500, 503} <= statuses, seen
    for response in recorder.exchanges:
        if "/joblog/v1/" in str(response.request.url):
            assert str(response.request.headers["Authorization"]).startswith("Bearer ")
        request = RequestsOpenAPIRequest(response.request)
        if response.request.headers.get("x-requestId") != "c-2":
            openapi.validate_request(request)
        openapi.validate_response(request, RequestsOpenAPIResponse(response))


# -- 2. schemathesis against the running service --------------------------------------------
# The schema is loaded at import: schemathesis' pytest plugin builds one test per operation
# from it (its lazy ``from_fixture`` loader does not work with pytest 9.2). The service runs
# once for the module; its URL and a bearer token go with every call (``headers=``: explicit
# credentials, so the ignored_auth check also probes each operation without them).

# Any request may meet a record already cancelled (410) or a request id already used (412,
# "whatever the body", checked before the body): documented answers, for valid and invalid
# data alike. Every other setting is schemathesis' default: every check, every phase that
# runs under pytest (examples, coverage, fuzzing).
CONFIG = SchemathesisConfig.from_dict({
    "generation": {"max-examples": 25, "deterministic": True, "database": "none",
                   "no-shrink": True},
    "checks": {
        "positive_data_acceptance": {"expected-statuses": [
            "2xx", "401", "404", "410", "412", "429", "5xx"]},
        "negative_data_rejection": {"expected-statuses": [
            "400", "401", "403", "404", "405", "406", "409", "410", "412", "415", "422", "428",
            "429", "5xx"]},
    },
})
schema = schemathesis.openapi.from_dict(spec_for("http://127.0.0.1:8089"), config=CONFIG)


@pytest.fixture(scope="module")
def running_service(tmp_path_factory) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("schemathesis") / "record.sqlite"
    with ReferenceRecordService(str(path), client_secret=SECRET, token_ttl=3600) as svc:
        r = requests.post(f"{svc.url}/oauth2/token", timeout=5, auth=("joblog", SECRET),
                          data={"grant_type": "client_credentials"})
        yield svc.url, str(r.json()["access_token"])


@schema.parametrize()
def test_schemathesis_finds_nothing(case, running_service):  # type: ignore[no-untyped-def]
    url, token = running_service
    load_all_checks()
    headers = {} if case.path == "/oauth2/token" else {"Authorization": f"Bearer {token}"}
    case.call_and_validate(base_url=url, headers=headers, checks=CHECKS.get_all())


# -- 3. what the schemathesis run found, each on its own ------------------------------------

def _raw(url: str, method: str, path: str, body: bytes = b"",
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def test_token_endpoint_refuses_an_unreadable_body_as_a_token_error(service):  # type: ignore[no-untyped-def]
    for headers in ({"Content-Length": "x"}, {"Transfer-Encoding": "chunked"},
                    {"Content-Length": str(10**6)}):
        status, got, body = _raw(service.url, "POST", "/oauth2/token", headers=headers)
        assert status == 400 and got["content-type"].startswith("application/json"), headers
        assert json.loads(body)["error"] == "invalid_request"
        assert "errorCode" not in json.loads(body)
    status, _, body = _raw(service.url, "POST", "/oauth2/token", "é".encode("latin-1"),
                           {"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, json.loads(body)["error"]) == (400, "invalid_request")


@pytest.mark.parametrize("method", ["TRACE", "OPTIONS", "PATCH", "CONNECT", "PROPFIND"])
def test_methods_a_path_does_not_take_are_405_in_json_with_allow(service, method):  # type: ignore[no-untyped-def]
    for path, allow in (("/oauth2/token", "POST"), ("/joblog/v1/entries", "POST"),
                        ("/joblog/v1/entries/abc", "GET, HEAD, PUT, DELETE"),
                        ("/joblog/v1/entries/by-request/abc", "GET, HEAD")):
        status, headers, body = _raw(service.url, method, path)
        assert (status, headers["allow"]) == (405, allow), (method, path)
        assert headers["content-type"].startswith("application/json")
        assert json.loads(body) == {"errorCode": "METHOD_NOT_ALLOWED"}


def test_405_is_in_the_spec_for_every_path():
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    for path, item in spec["paths"].items():
        for method in ("get", "post", "put", "delete"):
            if method in item:
                assert "405" in item[method]["responses"], (method, path)


def test_malformed_http_is_answered_in_json_not_html(service):  # type: ignore[no-untyped-def]
    import socket

    parts = urlsplit(service.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(b"GET /_health HTTP/9.9\r\n\r\n")
        answer = sock.recv(65536).decode("latin-1")
    head, _, body = answer.partition("\r\n\r\n")
    assert "application/json" in head and json.loads(body)["errorCode"] == "VALIDATION"


# White space as ECMA-262 sees it, and the characters Python's str.strip() and \s disagree on.
ECMA_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
PYTHON_ONLY_SPACE = "\x1c\x1d\x1e\x1f\x85"


def test_not_blank_means_the_same_in_the_spec_and_the_service(service):  # type: ignore[no-untyped-def]
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    assert spec["components"]["schemas"]["NonBlank"]["pattern"] == NOT_BLANK_PATTERN
    gateway = HttpGateway(service.url, "joblog", SECRET, timeout=5)
    for n, blank in enumerate(ECMA_SPACE):  # blank in the spec: refused
        outcome = gateway.deliver(_delivery(Op.CREATE, f"b-{n}", body={**ENTRY, "title": blank}))
        assert outcome.reason == "HTTP 400 VALIDATION (title)", repr(blank)
    for n, mark in enumerate(PYTHON_ONLY_SPACE):  # not blank in the spec: accepted
        outcome = gateway.deliver(_delivery(Op.CREATE, f"n-{n}", body={**ENTRY, "title": mark}))
        assert outcome.result == Result.DONE, repr(mark)


def test_the_spec_pattern_is_ecma_262_white_space():
    ecma = re.compile(NOT_BLANK_PATTERN)
    assert all(not ecma.search(c) for c in ECMA_SPACE)
    assert all(ecma.search(c) for c in PYTHON_ONLY_SPACE + "a.-")
    # Every Unicode space separator (Zs) is ECMA-262 white space.
    import unicodedata

    zs = [chr(i) for i in range(sys.maxunicode + 1) if unicodedata.category(chr(i)) == "Zs"]
    assert all(not ecma.search(c) for c in zs)
