"""A real, certified OpenID provider for the tests: the npm package ``oidc-provider`` (pinned,
installed by ``tests/support/ensure_oidc_provider.sh`` into ``tests/support/.node/``) run by
``server.mjs`` in a Node subprocess on a free port, with test identities that carry MitID-like
claims (a CPR number, NemLog-in's assurance level, ``amr``).

The tests hold the provider's signing key (they make it and hand it over), so they can also
sign tokens the provider would never issue (another audience, expired), and a second key the
provider does not publish. Also usable by hand next to ``make run``:
``python -m tests.support.oidc_provider`` prints the settings to export.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey

HERE = Path(__file__).resolve().parent
NODE_DIR = HERE.parent / ".node"
ENSURE = HERE.parent / "ensure_oidc_provider.sh"

CPR_CLAIM = "https://data.gov.dk/model/core/eid/cprNumber"
LOA_CLAIM = "https://data.gov.dk/concept/core/nsis/loa"
SUBSTANTIAL = "https://data.gov.dk/concept/core/nsis/loa/Substantial"
LOW = "https://data.gov.dk/concept/core/nsis/loa/Low"

# Test identities: made-up CPR numbers (the 1 January 1990 series, never real ones in use).
IDENTITIES: dict[str, dict[str, Any]] = {
    "citizen": {"label": "Olena (MitID app, substantial)",
                "claims": {CPR_CLAIM: "0101901111", LOA_CLAIM: SUBSTANTIAL}, "amr": ["mitid_app"]},
    "low-level": {"label": "Olena (low assurance)",
                  "claims": {CPR_CLAIM: "0101901111", LOA_CLAIM: LOW}, "amr": ["pwd"]},
    "stranger": {"label": "Someone the job centre does not know",
                 "claims": {CPR_CLAIM: "0201902222", LOA_CLAIM: SUBSTANTIAL}, "amr": ["mitid_app"]},
    "helper-mfa": {"label": "Hanne, helper (two factors)",
                   "claims": {"email": "hanne@kommune.example", LOA_CLAIM: SUBSTANTIAL},
                   "amr": ["pwd", "mfa"]},
    "helper-pwd": {"label": "Hanne, helper (password only)",
                   "claims": {"email": "hanne@kommune.example", LOA_CLAIM: SUBSTANTIAL},
                   "amr": ["pwd"]},
}
CLAIMS = [CPR_CLAIM, LOA_CLAIM, "email"]


def ensure_installed() -> None:
    subprocess.run(["bash", str(ENSURE)], check=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_key(kid: str) -> RSAKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return RSAKey.import_key(private, {"kid": kid, "use": "sig", "alg": "RS256"})


@dataclass
class LocalProvider:
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    client_id: str = "joblog"
    client_secret: str = "test-client-secret-0123456789abcdef"
    identities: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(IDENTITIES))
    port: int = 0
    key: RSAKey = field(default_factory=lambda: new_key("provider-key-1"))
    process: subprocess.Popen | None = None
    output: list[str] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self) -> dict[str, Any]:
        """The app's configuration for this provider."""
        return {"OIDC_ISSUER": self.issuer, "OIDC_CLIENT_ID": self.client_id,
                "OIDC_CLIENT_SECRET": self.client_secret, "OIDC_CPR_CLAIM": CPR_CLAIM,
                "OIDC_LOA_CLAIM": LOA_CLAIM, "OIDC_MIN_LOA": "substantial"}

    def start(self) -> LocalProvider:
        ensure_installed()
        self.port = self.port or free_port()
        config = {
            "port": self.port, "issuer": self.issuer,
            "clients": [{"client_id": self.client_id, "client_secret": self.client_secret,
                         "redirect_uris": self.redirect_uris,
                         "post_logout_redirect_uris": self.post_logout_redirect_uris,
                         "grant_types": ["authorization_code"], "response_types": ["code"],
                         "token_endpoint_auth_method": "client_secret_basic"}],
            "jwks": {"keys": [self.key.as_dict(private=True)]},
            "claims": CLAIMS, "identities": self.identities,
        }
        env = {**os.environ, "OIDC_TEST_CONFIG": json.dumps(config),
               "NODE_PATH": str(NODE_DIR / "node_modules")}
        # server.mjs imports oidc-provider: run it from a copy beside node_modules so Node's
        # ESM resolution (which ignores NODE_PATH) finds the package.
        script = NODE_DIR / "server.mjs"
        source = HERE / "server.mjs"
        if not script.exists() or script.read_bytes() != source.read_bytes():
            script.write_bytes(source.read_bytes())
        self.process = subprocess.Popen(["node", str(script)], env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        assert self.process.stdout is not None
        deadline = time.monotonic() + 30
        lines = []
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("listening"):
                # Keep reading what it prints (its warnings), so its pipe never fills up.
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        self.stop()
        raise RuntimeError("oidc-provider did not start:\n" + "".join(lines))

    def _drain(self) -> None:
        process = self.process
        if process is not None and process.stdout is not None:
            try:
                for line in process.stdout:
                    self.output.append(line)
            except (OSError, ValueError):
                pass

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process = None

    def sign(self, claims: dict[str, Any], key: RSAKey | None = None) -> str:
        """An ID token signed with the provider's own key (or ``key``), for answers the
        provider itself would never give."""
        signer = key or self.key
        return jwt.encode({"alg": "RS256", "kid": signer.kid}, claims, signer)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.buttons: dict[str, tuple[str, str]] = {}
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a.get("action", "")
        elif tag == "button" and a.get("name"):
            self.buttons[a["value"]] = (a["name"], a["value"])
        elif tag == "input" and a.get("type") == "hidden":
            self.hidden[a["name"]] = a.get("value", "")


def login_at_provider(authorization_url: str, login: str, until: str,
                      http: requests.Session | None = None) -> str:
    """Drive the provider as a browser would: follow its redirects, choose ``login`` on its
    interaction page, and return the first redirect URL that starts with ``until`` (the
    app's callback, with code and state)."""
    http = http or requests.Session()
    url = authorization_url
    method, data = "GET", None
    for _ in range(20):
        r = http.request(method, url, data=data, allow_redirects=False, timeout=10)
        if r.is_redirect:
            url = urljoin(url, r.headers["Location"])
            method, data = "GET", None
            if url.startswith(until):
                return url
            continue
        if r.status_code != 200 or "/interaction/" not in urlsplit(url).path:
            raise AssertionError(f"unexpected answer {r.status_code} at {url}: {r.text[:300]}")
        forms = _Forms()
        forms.feed(r.text)
        name, value = forms.buttons[login]
        url, method, data = urljoin(url, forms.action), "POST", {name: value}
    raise AssertionError("too many redirects at the provider")


def main() -> None:  # pragma: no cover - a development aid
    """Run the test provider for ``make run`` and print the settings to export."""
    port = int(os.environ.get("OIDC_PORT", "8090"))
    app = os.environ.get("APP_URL", "http://localhost:5000").rstrip("/")
    provider = LocalProvider([f"{app}/login/oidc/callback"], [f"{app}/login"], port=port).start()
    for name, value in provider.settings().items():
        print(f"export JOBLOG_{name}={value!r}")
    print("# CPR numbers of the test identities: put one on file with `flask citizens cpr`.")
    print("# Ctrl-C stops the provider.")
    try:
        assert provider.process is not None
        provider.process.wait()
    except KeyboardInterrupt:
        provider.stop()


