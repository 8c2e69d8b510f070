"""Lighthouse scores of the login page and the home screen, mobile emulation, Debian's Chromium.

npm's ``lighthouse`` (version pinned below, installed by this script into ``bench/.node/``,
which git ignores) runs its default mobile configuration (Moto G Power-sized screen,
simulated slow 4G and 4x CPU slowdown) against gunicorn on 127.0.0.1 with the production
configuration, as the other scripts do. The home screen is loaded as demo citizens 20000001
(Danish) and 20000003 (Arabic, right-to-left) after a real login (phone number, then the
code from gunicorn's log): the session cookie goes to Lighthouse as an extra header, and the
script checks that Lighthouse ended on the page it was given. Each page is measured
``--runs`` times (default 3) in a fresh Chromium each time; the median performance score is
reported (the machine is shared and noisy), accessibility and best practices as the lowest
of the runs, with the key metrics of the median run, every audit that did not pass, and the
findings of the informative security audits (HSTS, CSP, COOP, Trusted Types, clickjacking),
which weigh nothing in a score.

Targets: performance >= 95, accessibility 100, best practices 100 (Lighthouse's PWA category
no longer exists; installability is tested with Playwright in tests/browser/test_offline.py).

    .venv/bin/python bench/lighthouse.py [--runs 3] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as c  # noqa: E402

LIGHTHOUSE_VERSION = "12.8.2"
NODE_DIR = c.BENCH / ".node"
LIGHTHOUSE = NODE_DIR / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices")
TARGETS = {"performance": 95, "accessibility": 100, "best-practices": 100}
METRICS = {
    "first-contentful-paint": "FCP", "largest-contentful-paint": "LCP",
    "total-blocking-time": "TBT", "cumulative-layout-shift": "CLS", "speed-index": "SI",
}
# (name, path, demo citizen whose session is used, or None)
PAGES = (("Login page", "/login", None), ("Home screen, citizen 20000001 (da)", "/", "20000001"),
         ("Home screen, citizen 20000003 (ar)", "/", "20000003"))


@dataclass
class Run:
    scores: dict[str, int]
    metrics: dict[str, str]
    failing: dict[str, float] = field(default_factory=dict)  # "id: title" → score
    advice: list[str] = field(default_factory=list)  # not passed, but weighs nothing in a score
    findings: list[str] = field(default_factory=list)  # informative security audits' items
    # Lighthouse's measure of the host's CPU speed at the time; it drops when the shared
    # machine is busy, and simulated throttling then scales the slower tasks by 4 again.
    benchmark_index: int = 0


def installed_lighthouse() -> str | None:
    if not LIGHTHOUSE.exists():
        return None
    done = subprocess.run([str(LIGHTHOUSE), "--version"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def ensure_lighthouse() -> str:
    """The pinned Lighthouse from the npm registry, installed (or replaced) when missing."""
    if installed_lighthouse() != LIGHTHOUSE_VERSION:
        c.log(f"installing lighthouse@{LIGHTHOUSE_VERSION} into {NODE_DIR.relative_to(c.ROOT)}")
        NODE_DIR.mkdir(exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "--save-exact",
                        "--prefix", str(NODE_DIR), f"lighthouse@{LIGHTHOUSE_VERSION}"], check=True)
    version = installed_lighthouse()
    if version != LIGHTHOUSE_VERSION:
        raise SystemExit(f"lighthouse {version} in {NODE_DIR}, expected {LIGHTHOUSE_VERSION}")
    return version


def lighthouse(url: str, out: Path, headers: Path | None) -> Run:
    cmd = [str(LIGHTHOUSE), url, "--output=json", f"--output-path={out}", "--quiet",
           f"--only-categories={','.join(CATEGORIES)}",
           "--chrome-flags=" + " ".join(c.CHROMIUM_FLAGS)]
    if headers is not None:
        cmd.append(f"--extra-headers={headers}")
    # On a loaded machine Chromium's trace sometimes misses the navigation (NO_NAVSTART):
    # Lighthouse itself says to run it again, so a run that failed that way is redone once.
    for attempt in (1, 2):
        out.unlink(missing_ok=True)
        done = subprocess.run(cmd, env={**os.environ, "CHROME_PATH": c.CHROMIUM},
                              capture_output=True, text=True, timeout=300)
        if done.returncode == 0 and out.exists() and not json.loads(out.read_text()).get("runtimeError"):
            break
        c.log(f"lighthouse run failed (attempt {attempt}): {done.stderr.strip()[-300:]}")
    if done.returncode != 0 or not out.exists():
        raise SystemExit(f"lighthouse failed ({done.returncode}):\n{done.stderr[-2000:]}")
    report = json.loads(out.read_text())
    if report.get("runtimeError"):
        raise SystemExit(f"lighthouse: {report['runtimeError']}")
    if report["finalDisplayedUrl"] != url:
        raise SystemExit(f"lighthouse ended on {report['finalDisplayedUrl']}, not {url} (logged out?)")
    scores = {k: round(report["categories"][k]["score"] * 100) for k in CATEGORIES}
    audits = report["audits"]
    metrics = {short: audits[key]["displayValue"] for key, short in METRICS.items()}
    # What lowers a score: audits that count in a category and did not pass.
    counted = {ref["id"] for k in CATEGORIES for ref in report["categories"][k]["auditRefs"]
               if ref["weight"] > 0}
    not_passed = [a for a in audits.values() if a.get("score") is not None and a["score"] < 1
                  and a.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings")]
    failing = {f"{a['id']}: {a['title']}": a["score"] for a in not_passed if a["id"] in counted}
    advice = sorted(f"{a['id']}: {a['title']}" for a in not_passed if a["id"] not in counted)
    # Informative audits (HSTS, CSP, COOP, Trusted Types, XFO) always "pass" but list what
    # they found, each item with a severity.
    findings = sorted(f"{a['id']}: {item['severity']}: {item['description']}"
                      for a in audits.values() if a.get("scoreDisplayMode") == "informative"
                      for item in (a.get("details") or {}).get("items", [])
                      if isinstance(item, dict) and "severity" in item)
    return Run(scores, metrics, failing, advice, findings,
               round(report["environment"]["benchmarkIndex"]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="runs per page; the median is reported (3)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (reports)")
    args = ap.parse_args()
    if not 1 <= args.runs <= 9:
        raise SystemExit("--runs must be 1..9")
    if not Path(c.CHROMIUM).exists():
        raise SystemExit(f"{c.CHROMIUM} is missing (bash tests/support/ensure_browser.sh)")
    version = ensure_lighthouse()

    results: dict[str, list[Run]] = {}
    headers: dict[str | None, Path | None] = {None: None}
    with c.workspace(args.keep) as ws, c.gunicorn(ws) as server:
        for phone in sorted({p for _n, _path, p in PAGES if p}):
            client = c.login(server, phone)
            c.session_cookie_name(client)  # exactly one session cookie, or stop
            headers[phone] = ws.dir / f"lighthouse-headers-{phone}.json"
            headers[phone].write_text(json.dumps({"Cookie": client.cookie_header()}))
        for n, (name, path, phone) in enumerate(PAGES):
            results[name] = [lighthouse(server.base + path, ws.dir / f"lighthouse-{n}-{i}.json",
                                        headers[phone]) for i in range(args.runs)]

    print("\n" + "=" * 78)
    print(f"LIGHTHOUSE {version}, mobile emulation (simulated slow 4G, 4x CPU slowdown), "
          f"Chromium at {c.CHROMIUM}")
    print(f"gunicorn 2 sync workers, production config; {args.runs} run(s) per page: median "
          "performance, lowest accessibility and best practices")
    print("targets: " + ", ".join(f"{k} >= {v}" for k, v in TARGETS.items()))
    print("=" * 78)
    missed = False
    for name, runs in results.items():
        perf = [r.scores["performance"] for r in runs]
        median_run = sorted(runs, key=lambda r: r.scores["performance"])[len(runs) // 2]
        scores = {k: min(r.scores[k] for r in runs) for k in CATEGORIES}
        scores["performance"] = int(statistics.median(perf))
        verdict = all(scores[k] >= v for k, v in TARGETS.items())
        missed |= not verdict
        print(f"{name:36} " + "  ".join(f"{k} {scores[k]:>3}" for k in CATEGORIES)
              + f"   {'OK' if verdict else 'MISS'}")
        print(f"{'':36} per run, perf/a11y/bp (host benchmarkIndex): "
              + ", ".join("/".join(str(r.scores[k]) for k in CATEGORIES)
                          + f" ({r.benchmark_index})" for r in runs))
        print(f"{'':36} median run: " + ", ".join(f"{k} {v}" for k, v in median_run.metrics.items()))
        for line in sorted({f for r in runs for f in r.failing}):
            got = [r.failing[line] for r in runs if line in r.failing]
            print(f"{'':36} not passed: {line} (score {', '.join(f'{x:.2f}' for x in got)}"
                  f" in {len(got)} of {len(runs)} runs)")
        for line in sorted({f for r in runs for f in r.advice}):
            print(f"{'':36} advice (no weight in the score): {line}")
        for line in sorted({f for r in runs for f in r.findings}):
            print(f"{'':36} finding (informative): {line}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
