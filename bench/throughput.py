"""Requests per second under gunicorn, relative to a bare Flask app on the same settings.

wrk runs against gunicorn on 127.0.0.1 (2 workers; worker class ``sync``, gunicorn's
default, unless ``--worker-class gthread``), each after a short warm-up and once the
machine is quiet (other processes below 15% CPU, waiting at most ``--quiet-wait`` s):

  (a) hello - ``bench/hello_app.py``, a Flask view returning "Hello, World!": the ceiling
      of this machine + gunicorn + Flask;
  (b) home  - ``GET /`` with the session cookie of demo citizen 20000001 (a real login);
      every request reads its data and renders the page afresh (nothing is cached);
  (c) save  - ``POST /activities/new/application`` as the htmx form sends it (X-CSRFToken
      header and csrf_token field, HX-Request/HX-Target), with a fresh client_uuid per
      request (``bench/post_application.lua``), as demo citizen 20000004 so that the home
      screen measured in (b) keeps its demo data.

The app runs with its production configuration on a fresh SQLite database in WAL mode with
the demo data; requests carry Chromium's Accept-Encoding, so pages are compressed as for a
phone. Every response is counted by status in Lua (``bench/wrk_report.lua``): a redirect
to the login page or a 403 for a bad CSRF token cannot pass as throughput, and req/s counts
2xx only. After each save run the database must hold one new row per successful response
(plus at most one per connection still in flight when wrk stopped). p95 comes from wrk's
latency histogram (``latency:percentile(95)`` in the ``done`` hook). The CPU time of the
gunicorn workers per request is reported too: on a 2-CPU machine shared with wrk it is the
steadier figure. ``--repeat N`` interleaves N rounds of (a), (b), (c) and reports medians.

Targets: home/hello >= 0.10 (rendered every time, no response cache) and save/hello >= 0.15
(requests per second). Exit status 0 when both are met, 1 when a target is missed, 2 when a
check failed (the figures are unreliable).

    .venv/bin/python bench/throughput.py [--duration 10] [--repeat 1] [--threads 2]
        [--connections 8] [--worker-class sync|gthread] [--gthreads 4] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as c  # noqa: E402

WRK = shutil.which("wrk") or "/usr/bin/wrk"
PHONE = "20000001"  # home screen: Danish demo citizen, demo history left as seeded
SAVE_PHONE = "20000004"  # saves go to another citizen, so the home screen measured stays the same
# What Chromium sends; the app compresses pages with the first it supports (zstd here).
ACCEPT_ENCODING = "gzip, deflate, br, zstd"
TARGETS = {"home": 0.10, "save": 0.15}
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    name: str
    what: str
    stats: dict
    wrk_text: str
    server_cpu_s: float  # CPU seconds used by the gunicorn workers during the run
    wrk_cpu_s: float  # CPU seconds used by wrk
    other_cpu_s: float  # CPU seconds used by every other process on the machine meanwhile

    @property
    def seconds(self) -> float:
        return self.stats["duration_us"] / 1e6

    @property
    def ok_responses(self) -> int:
        return sum(n for s, n in self.stats["status"].items() if 200 <= int(s) < 300)

    @property
    def bad_responses(self) -> dict[str, int]:
        return {s: n for s, n in self.stats["status"].items() if not 200 <= int(s) < 300}

    @property
    def socket_errors(self) -> int:
        return sum(self.stats["errors"].values())

    @property
    def rps(self) -> float:
        """Successful (2xx) responses per second: errors are not throughput."""
        return self.ok_responses / self.seconds

    def ms(self, key: str) -> float:
        return self.stats[key] / 1000

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.server_cpu_s / max(1, self.stats["requests"])

    @property
    def other_share(self) -> float:
        """Share of the machine's CPU capacity taken by unrelated processes during the run."""
        return self.other_cpu_s / (self.seconds * (os.cpu_count() or 1))


def machine_busy_seconds() -> float:
    """CPU seconds spent busy on the whole machine so far (all CPUs, /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def wait_until_quiet(max_wait: float = 90, threshold: float = 0.15) -> float:
    """Wait (bounded) until other processes use less than ``threshold`` of the CPUs.

    Returns the last measured busy share. The figures of a busy machine are worth little:
    the report flags them."""
    deadline = time.monotonic() + max_wait
    ncpu = os.cpu_count() or 1
    while True:
        b0 = machine_busy_seconds()
        time.sleep(1)
        share = (machine_busy_seconds() - b0) / ncpu
        if share < threshold or time.monotonic() > deadline:
            if share >= threshold:
                c.log(f"machine still {share:.0%} busy with other work after {max_wait:.0f} s; "
                      "measuring anyway")
            return share
        c.log(f"machine {share:.0%} busy with other work; waiting")


def worker_cpu_seconds(master_pid: int) -> float:
    """utime + stime of gunicorn's worker processes (children of the master we started)."""
    total = 0
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / CLK_TCK


def wrk(server: c.Server, name: str, what: str, path: str, script: Path, args: argparse.Namespace,
        script_args: list[str] | None = None, headers: dict[str, str] | None = None,
        duration: float | None = None) -> Run:
    duration = duration if duration is not None else args.duration
    cmd = [WRK, "-t", str(args.threads), "-c", str(args.connections), "-d", f"{duration:g}s",
           "--latency", "--timeout", "10s", "-s", str(script)]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    cmd.append(server.base + path)
    if script_args:
        cmd += ["--", *script_args]
    cpu0, busy0 = worker_cpu_seconds(server.proc.pid), machine_busy_seconds()
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    cpu1, busy1 = worker_cpu_seconds(server.proc.pid), machine_busy_seconds()
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
    own_cpu = (self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    m = re.search(r"^BENCH-JSON (.*)$", proc.stdout, re.M)
    if not m:
        raise SystemExit(f"wrk printed no BENCH-JSON line:\n{proc.stdout}\n{proc.stderr}")
    stats = json.loads(m.group(1))
    stats["status"] = stats.get("status") or {}
    text = proc.stdout.replace(m.group(0), "").strip()
    other = max(0.0, (busy1 - busy0) - (cpu1 - cpu0) - wrk_cpu - own_cpu)
    return Run(name, what, stats, text, cpu1 - cpu0, wrk_cpu, other)


def measure(server: c.Server, name: str, what: str, path: str, script: Path,
            args: argparse.Namespace, label: str, script_args: tuple[list[str], list[str]] | None = None,
            before_run: Callable[[], None] | None = None, **kw: object) -> Run:
    """Warm-up, wait for a quiet machine, then the measured run (wrk output printed)."""
    if args.warmup > 0:
        c.log(f"{label}: warm-up {args.warmup:g} s")
        wrk(server, name, what, path, script, args, duration=args.warmup,  # type: ignore[arg-type]
            script_args=script_args[0] if script_args else None, **kw)
        if script_args:
            time.sleep(1)  # saves in flight when the warm-up stopped still commit
    if before_run is not None:
        before_run()
    wait_until_quiet(args.quiet_wait)
    c.log(f"{label}: {args.duration:g} s, {args.threads} wrk threads, {args.connections} connections")
    run = wrk(server, name, what, path, script, args,  # type: ignore[arg-type]
              script_args=script_args[1] if script_args else None, **kw)
    print(f"\n--- wrk output: {label} ({what}) ---\n{run.wrk_text}", flush=True)
    return run


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=10, help="seconds per measured run (10)")
    ap.add_argument("--warmup", type=float, default=2, help="seconds of warm-up before each run (2)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="rounds of hello, home, save, interleaved; medians are reported (1)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    ap.add_argument("--connections", type=int, default=8, help="wrk connections (8)")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    ap.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    ap.add_argument("--gthreads", type=int, default=4, help="threads per gthread worker (4)")
    ap.add_argument("--quiet-wait", type=float, default=90,
                    help="at most this many seconds to wait for other CPU load to stop (90)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    if not (1 <= args.duration <= 120 and 0 <= args.warmup <= 30 and 1 <= args.repeat <= 10):
        raise SystemExit("--duration must be 1..120 s, --warmup 0..30 s, --repeat 1..10")
    if not Path(WRK).exists():
        raise SystemExit("wrk is missing (apt-get install wrk)")
    report_lua = c.BENCH / "wrk_report.lua"
    post_lua = c.BENCH / "post_application.lua"
    server_kw = {"workers": args.workers, "worker_class": args.worker_class, "threads": args.gthreads}
    accept = {"Accept-Encoding": ACCEPT_ENCODING}
    rounds: list[dict[str, Run]] = []
    saves: list[tuple[int, int, int]] = []  # (successful responses, rows with the run's nonce, all new rows)
    problems: list[str] = []

    with c.workspace(args.keep) as ws, \
            c.gunicorn(ws, app="hello_app:app", name="hello", ready_path="/", **server_kw) as hello, \
            c.gunicorn(ws, **server_kw) as server:
        client = c.login(server, PHONE)
        cookie_name = c.session_cookie_name(client)
        cookie = f"{cookie_name}={client.cookies[cookie_name]}"
        saver = c.login(server, SAVE_PHONE)
        # A page rendered for this session gives the CSRF token, as the browser gets it; the
        # session cookie (already carrying the CSRF secret since the home page) stays valid.
        status, _h, html = saver.send("GET", "/activities/new/application")
        if status != 200:
            raise SystemExit(f"GET /activities/new/application: {status}")
        token = c.csrf_token(html)
        save_cookie = f"{cookie_name}={saver.cookies[cookie_name]}"
        day = c.today_dk().isoformat()
        cid = int(ws.scalar("SELECT id FROM user WHERE phone = ?", ("+45" + SAVE_PHONE,)))
        count_sql = "SELECT count(*) FROM activity WHERE citizen_id = ? AND kind = 'application'"

        # One save by hand first: it must really save, or the wrk figures mean nothing.
        before = int(ws.scalar(count_sql, (cid,)))
        probe = c.Client(server, {cookie_name: saver.cookies[cookie_name]})
        status, headers, body = probe.send(
            "POST", "/activities/new/application",
            {"csrf_token": token, "client_uuid": secrets.token_hex(16),
             "organisation": "Bench Bageri ApS", "title": "Probe", "occurred_on": day,
             "method": "advertised", "status": "applied"},
            {"X-CSRFToken": token, "HX-Request": "true", "HX-Target": "entry-form"})
        probe_saved = int(ws.scalar(count_sql, (cid,))) == before + 1
        if status != 200 or not headers.get("HX-Location") or not probe_saved:
            raise SystemExit(f"a single save did not work: {status} {dict(headers)}\n{body[:500]}")

        for rep in range(1, args.repeat + 1):
            tag = f" #{rep}" if args.repeat > 1 else ""
            runs: dict[str, Run] = {}
            # (a) the bare Flask app, same gunicorn settings
            runs["hello"] = measure(hello, "hello", "bare Flask 'Hello, World!'", "/", report_lua, args,
                                    "hello" + tag, headers=accept)
            # (b) home screen, logged in
            runs["home"] = measure(server, "home", "GET / logged in", "/", report_lua, args,
                                   "home" + tag, headers={**accept, "Cookie": cookie})
            # (c) save an application, fresh client_uuid per request
            nonce_warm, nonce_run = secrets.token_hex(4), secrets.token_hex(4)
            rows: dict[str, int] = {}
            runs["save"] = measure(
                server, "save", "POST /activities/new/application (htmx form)",
                "/activities/new/application", post_lua, args, "save" + tag,
                script_args=([save_cookie, token, day, nonce_warm], [save_cookie, token, day, nonce_run]),
                headers=accept,
                before_run=lambda rows=rows: rows.__setitem__("before", int(ws.scalar(count_sql, (cid,)))))
            time.sleep(1)  # a save still in flight when wrk stopped may commit now
            created = int(ws.scalar(count_sql, (cid,))) - rows["before"]
            run_rows = int(ws.scalar(
                "SELECT count(*) FROM activity WHERE citizen_id = ? AND kind = 'application' "
                "AND substr(replace(client_uuid, '-', ''), 1, 8) = ?", (cid, nonce_run)))
            saves.append((runs["save"].stats["marked"], run_rows, created))
            rounds.append(runs)

        # The sessions still work afterwards (nothing logged them out on the way).
        for who in (client, saver):
            status, _h, _b = c.Client(server, dict(who.cookies)).send("GET", "/")
            if status != 200:
                problems.append(f"a session cookie no longer works after the runs: GET / -> {status}")
        log_tail = server.log_text()[-3000:]

    print("\n--- checks ---")
    for rep, ((saved, run_rows, created), runs) in enumerate(zip(saves, rounds, strict=True), 1):
        save = runs["save"]
        print(f"save #{rep}: {saved} responses were 200 + HX-Location, "
              f"{save.ok_responses - saved} other 2xx; {run_rows} application rows carry this run's "
              f"client_uuid prefix, {created} new rows in all")
        # wrk stops with up to one request per connection in flight; the server still saves those.
        if not saved <= run_rows <= saved + args.connections or created != run_rows:
            problems.append(f"save #{rep}: {saved} successful responses but {run_rows} rows from this run "
                            f"({created} new rows in all)")
        if saved != save.ok_responses:
            problems.append(f"save #{rep}: {save.ok_responses - saved} 2xx responses without HX-Location")
        for run in runs.values():
            if run.bad_responses:
                problems.append(f"{run.name} #{rep}: non-2xx responses {run.bad_responses}")
            if run.socket_errors:
                problems.append(f"{run.name} #{rep}: socket errors {run.stats['errors']}")
            if run.ok_responses == 0:
                problems.append(f"{run.name} #{rep}: no successful response at all")
            if run.other_share > 0.10:
                problems.append(f"{run.name} #{rep}: other processes took {run.other_share:.0%} of the CPUs; "
                                "its req/s is understated (CPU ms/req is the steadier figure)")
    if any(run.bad_responses for runs in rounds for run in runs.values()):
        print("server log (end):\n" + log_tail)

    ncpu = os.cpu_count() or 1
    wc = args.worker_class + (f", {args.gthreads} threads each" if args.worker_class == "gthread" else "")
    print("\n" + "=" * 78)
    print(f"THROUGHPUT: gunicorn {args.workers} workers ({wc}) on 127.0.0.1; wrk -t{args.threads} "
          f"-c{args.connections} -d{args.duration:g}s, {args.repeat} round(s); "
          f"{ncpu} CPUs shared by wrk and gunicorn")
    print("req/s counts 2xx responses only; latency from wrk's histogram; CPU ms/req = gunicorn")
    print("workers' CPU time per request; wrk/other = share of the CPUs used by wrk / other processes")
    print("=" * 78)
    print(f"{'run':9} {'req/s':>8} {'requests':>9} {'non-2xx':>8} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'p99 ms':>7} {'CPU ms/req':>10} {'B/resp':>7} {'wrk':>5} {'other':>5}")
    for rep, runs in enumerate(rounds, 1):
        for run in runs.values():
            bad = sum(run.bad_responses.values()) + run.socket_errors
            name = run.name + (f" #{rep}" if args.repeat > 1 else "")
            print(f"{name:9} {run.rps:>8.1f} {run.stats['requests']:>9} {bad:>8} {run.ms('p50_us'):>7.2f} "
                  f"{run.ms('p95_us'):>7.2f} {run.ms('p99_us'):>7.2f} {run.cpu_ms_per_request:>10.2f} "
                  f"{run.stats['bytes'] / max(1, run.stats['requests']):>7.0f} "
                  f"{run.wrk_cpu_s / (run.seconds * ncpu):>5.0%} {run.other_share:>5.0%}")
    if args.repeat > 1:
        print("medians over the rounds:")
        for name in ("hello", "home", "save"):
            rs = [runs[name] for runs in rounds]
            print(f"  {name:6} {median([r.rps for r in rs]):8.1f} req/s   p95 "
                  f"{median([r.ms('p95_us') for r in rs]):6.2f} ms   "
                  f"CPU {median([r.cpu_ms_per_request for r in rs]):5.2f} ms/req")
    ok = True
    for name, target in TARGETS.items():
        ratios = [runs[name].rps / runs["hello"].rps for runs in rounds]
        cpu_ratios = [runs["hello"].cpu_ms_per_request / runs[name].cpu_ms_per_request for runs in rounds]
        ratio = median(ratios)
        verdict = "OK" if ratio >= target else "MISS"
        ok = ok and ratio >= target
        spread = f" (rounds: {min(ratios):.3f}..{max(ratios):.3f})" if len(ratios) > 1 else ""
        print(f"{name}/hello = {ratio:.3f}{spread}   target >= {target:.2f}  {verdict}   "
              f"[by CPU ms/req: {median(cpu_ratios):.3f}]")
    if problems:
        print("PROBLEMS (the figures above are not trustworthy until fixed):")
        for p in problems:
            print(f"  - {p}")
    else:
        print("checks passed: only 2xx responses, no socket errors, every save made exactly one row")
    return 2 if problems else 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
