"""A wave of web push: N subscriptions (default 120,000) and a due reminder for each,
delivered by the ``push-deliver`` worker job to a fake push service on 127.0.0.1.

Not part of the test suite. Prints its figures last.

* Data: N citizens, each with one subscription on its own endpoint and its own real P-256
  key pair (``cryptography``; generated here, the payload is encrypted to each), a reminder
  and its outbox row, bulk-inserted into a fresh SQLite database (WAL) in a temporary folder.
* The fake push service (tests/support/fake_push.py) runs in its own process, on 4 ports =
  4 push-service origins, HTTP/1.1 keep-alive. Every request: the VAPID JWT is checked
  (ES256 signature verified once per token, ``aud``, ``exp``, ``sub``), TTL/Urgency/Topic
  checked; 1 in 100 is decrypted with the subscription's private key (http_ece aes128gcm)
  and its JSON checked. Answers: 1 % 410 (dead endpoints), 1 % 503 once, 1 % 429 once with
  ``Retry-After: 1``. A push service's 429 pauses everything we send to that origin, so the
  429s are modelled as a rate limiter gives them: in stretches (blocks of 100 consecutive
  subscriptions, one origin per block of 1,000), not spread evenly over every origin.
* The wave: the worker job in this process (one aiohttp session, ``PUSH_CONCURRENCY`` in
  flight, one VAPID header per origin) runs until nothing is pending; retries after 503
  back off (base 0.5 s here) and 429s wait Retry-After.

Figures: wall time, messages/s (first attempts accepted or refused as gone, per second of the
wave), sender CPU ms per message (this process's CPU time / messages), the service's CPU,
``lost`` (live subscriptions with no accepted message), ``duplicates`` (messages accepted
more than once for one subscription), ``stale deleted`` (subscriptions deleted after 410).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import secrets
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ORIGINS = 4
SAMPLE_EVERY = 100
PAYLOAD = ('{"id":{id},"lang":"uk","title":"Журнал пошуку роботи",'
           '"body":"На сьогодні у вас заплановано 1 нагадування.","url":"/","tag":"follow-up"}')


def _kind(i: int) -> str:
    """What the fake service does with subscription ``i`` (0-based)."""
    if i % 100 == 0:
        return "gone"
    if i % 100 == 50:
        return "503"
    if (i // 100) % 100 == 37:  # one block of 100 in every 10,000: 1 %
        return "429"
    return "ok"


def _origin_of(i: int) -> int:
    return (i // 1000) % ORIGINS


def _service(public_key: str, sample: dict[int, tuple[int, bytes]], ready, done, results) -> None:
    """The fake push service process: 4 origins; reports its counts when told to stop."""
    import resource

    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.support.fake_push import DeviceKeys, FakePushService

    keys = {i: DeviceKeys(ec.derive_private_key(v, ec.SECP256R1()), auth) for i, (v, auth) in
            sample.items()}

    def decide(path: str, nth: int):  # type: ignore[no-untyped-def]
        i = int(path.rsplit("/", 1)[1])
        kind = _kind(i)
        if kind == "gone":
            return 410, {}
        if kind == "503" and nth == 1:
            return 503, {}
        if kind == "429" and nth == 1:
            return 429, {"Retry-After": "1"}
        return 201, {}

    services = []
    for _ in range(ORIGINS):
        s = FakePushService(public_key, decrypt_every=1, decide=decide, accept_unknown=True).start()
        services.append(s)
    # Only sampled subscriptions have keys here: the others are not decrypted.
    for s in services:
        for i, k in keys.items():
            s.keys[f"/p/{i}"] = k
    ready.send([s.origin for s in services])
    done.recv()
    accepted: dict[int, int] = {}
    statuses: dict[int, int] = {}
    problems: list[str] = []
    decrypted = 0
    for s in services:
        for r in s.received:
            statuses[r.status] = statuses.get(r.status, 0) + 1
            problems.extend(r.problems)
            if r.message is not None:
                decrypted += 1
            if r.status == 201:
                i = int(r.path.rsplit("/", 1)[1])
                accepted[i] = accepted.get(i, 0) + 1
        s.stop()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    results.send({"accepted": accepted, "statuses": statuses, "problems": problems[:20],
                  "n_problems": len(problems), "decrypted": decrypted,
                  "cpu": usage.ru_utime + usage.ru_stime})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscriptions", type=int, default=120_000)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    n = args.subscriptions

    import base64

    import flask_migrate
    import sqlalchemy as sa
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from joblog_app import create_app
    from joblog_app.auth.models import Municipality, User
    from joblog_app.extensions import db
    from joblog_app.models_base import utcnow
    from joblog_app.reminders import jobs
    from joblog_app.reminders.models import DeliveryState, PushDelivery, PushSubscription, Reminder
    from joblog_app.reminders.vapid import new_private_key, public_key_from_config

    tmp = Path(tempfile.mkdtemp(prefix="push-wave-"))
    app = create_app({"ENV_NAME": "testing", "SECRET_KEY": secrets.token_hex(16),
                      "DATABASE_URL": f"sqlite:///{tmp / 'wave.sqlite'}",
                      "VAPID_PRIVATE_KEY": new_private_key(),
                      "VAPID_CONTACT": "mailto:push-bench@example.org",
                      "PUSH_BATCH_SIZE": args.batch, "PUSH_CONCURRENCY": args.concurrency,
                      "PUSH_BACKOFF_BASE": 0.5, "PUSH_LEASE_SECONDS": 120})
    public_key = public_key_from_config(app.config)

    t0 = time.perf_counter()
    print(f"[bench] generating {n:,} P-256 key pairs ...", file=sys.stderr, flush=True)
    p256dh: list[str] = []
    sample: dict[int, tuple[int, bytes]] = {}
    auths: list[bytes] = []
    for i in range(n):
        key = ec.generate_private_key(ec.SECP256R1())
        raw = key.public_key().public_bytes(serialization.Encoding.X962,
                                            serialization.PublicFormat.UncompressedPoint)
        p256dh.append(base64.urlsafe_b64encode(raw).rstrip(b"=").decode())
        auth = os.urandom(16)
        auths.append(auth)
        if i % SAMPLE_EVERY == 7:
            sample[i] = (key.private_numbers().private_value, auth)
    keygen = time.perf_counter() - t0

    ctx = mp.get_context("spawn")
    ready_r, ready_w = ctx.Pipe(False)
    done_r, done_w = ctx.Pipe(False)
    res_r, res_w = ctx.Pipe(False)
    proc = ctx.Process(target=_service, args=(public_key, sample, ready_w, done_r, res_w))
    proc.start()
    origins = ready_r.recv()

    print("[bench] inserting rows ...", file=sys.stderr, flush=True)
    now = utcnow()
    with app.app_context():
        flask_migrate.upgrade()
        m = Municipality(code="999", name="Bench")
        db.session.add(m)
        db.session.commit()
        chunk = 10_000
        for start in range(0, n, chunk):
            ids = range(start, min(n, start + chunk))
            db.session.execute(sa.insert(User.__table__), [
                {"id": i + 1, "role": "citizen", "municipality_id": m.id, "name": f"C{i}",
                 "phone": f"+45{10_000_000 + i}", "language": ("da", "uk", "ar", "en")[i % 4],
                 "is_active": True, "created_at": now} for i in ids])
            db.session.execute(sa.insert(PushSubscription.__table__), [
                {"id": i + 1, "user_id": i + 1, "endpoint": f"{origins[_origin_of(i)]}/p/{i}",
                 "origin": origins[_origin_of(i)], "p256dh": p256dh[i],
                 "auth": base64.urlsafe_b64encode(auths[i]).rstrip(b"=").decode(),
                 "device": "bench", "created_at": now, "confirmed_at": now} for i in ids])
            db.session.execute(sa.insert(Reminder.__table__), [
                {"id": i + 1, "user_id": i + 1, "day": None, "kinds": "follow-up",
                 "topic": "follow-up", "urgency": "normal",
                 "payload": PAYLOAD.replace("{id}", str(i + 1)),
                 "due_at": now, "expires_at": now + timedelta(hours=6), "created_at": now}
                for i in ids])
            db.session.execute(sa.insert(PushDelivery.__table__), [
                {"id": i + 1, "reminder_id": i + 1, "subscription_id": i + 1, "state": "pending",
                 "attempts": 0, "next_attempt_at": now} for i in ids])
            db.session.commit()
        db.session.remove()

    print("[bench] the wave ...", file=sys.stderr, flush=True)
    with app.app_context():
        job = jobs.DeliverJob()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        first_pass_done = None
        while True:
            claimed = job(lambda: False)
            pending = db.session.scalar(sa.select(sa.func.count(PushDelivery.id)).where(
                PushDelivery.state.in_((DeliveryState.PENDING, DeliveryState.SENDING))))
            if first_pass_done is None:
                first_pass_done = time.perf_counter() - wall0
            if not pending:
                break
            if not claimed:
                time.sleep(0.05)
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        states = dict(db.session.execute(sa.select(PushDelivery.state, sa.func.count())
                                         .group_by(PushDelivery.state)).all())
        subs_left = db.session.scalar(sa.select(sa.func.count(PushSubscription.id)))
        job.sender.close()  # type: ignore[union-attr]
    done_w.send(True)
    service = res_r.recv()
    proc.join(10)

    gone = sum(1 for i in range(n) if _kind(i) == "gone")
    accepted = service["accepted"]
    lost = sum(1 for i in range(n) if _kind(i) != "gone" and accepted.get(i, 0) == 0)
    duplicates = sum(c - 1 for c in accepted.values() if c > 1)
    requests = sum(service["statuses"].values())
    print(f"subscriptions = {n:,} (each its own P-256 key; generated in {keygen:.1f} s), "
          f"origins = {ORIGINS}, concurrency = {args.concurrency}, batch = {args.batch}")
    print(f"requests = {requests:,}  statuses = {dict(sorted(service['statuses'].items()))}")
    print(f"service checks failed = {service['n_problems']} {service['problems'][:3]}")
    print(f"decrypted sample = {service['decrypted']:,} (1 in {SAMPLE_EVERY}, JSON checked)")
    print(f"outbox states = { {str(k): v for k, v in states.items()} }")
    print(f"service CPU = {service['cpu']:.1f} s")
    print(f"wall time = {wall:.1f} s (first job run, until only backed-off messages were left: "
          f"{first_pass_done:.1f} s)")
    print(f"messages/s = {n / wall:,.0f}")
    print(f"CPU ms/message (sender) = {cpu * 1000 / n:.3f}")
    print(f"lost = {lost}")
    print(f"duplicates = {duplicates}")
    print(f"stale deleted = {n - subs_left} (expected {gone})")


if __name__ == "__main__":
    main()
