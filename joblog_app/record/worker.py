"""``flask worker``: runs the background jobs until stopped (or once, for cron and tests)."""

from __future__ import annotations

import logging
import signal
import time

from flask import current_app

from ..auth.senders import sender_for
from ..auth.services import send_pending_codes
from .relay import Gateways, RelayStats, relay_continuously

log = logging.getLogger("joblog.worker")


def run(once: bool = False, interval: float = 1.0) -> RelayStats:
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True  # finish the batch in hand, then leave

    previous = signal.signal(signal.SIGTERM, stop)
    total = RelayStats()
    gateways = Gateways()
    try:
        while not stopping:
            _send_login_codes()
            # Batch after batch while entries are due, then a pause (or the end, --once).
            for stats in relay_continuously(gateways, lambda: stopping):
                _send_login_codes()  # a citizen waiting for a code does not wait for the relay
                for name in ("claimed", "synced", "retried", "failed", "waiting", "local"):
                    setattr(total, name, getattr(total, name) + getattr(stats, name))
                log.info("relay: %s", stats)
            if once or stopping:
                break
            time.sleep(interval)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return total


def _send_login_codes() -> None:
    """The login-code outbox (auth.services.send_pending_codes); commits per message."""
    sent = send_pending_codes(current_app.secret_key, sender_for)  # type: ignore[arg-type]
    if sent:
        log.info("login codes sent: %s", sent)
