"""``flask worker``: runs the background jobs until stopped (or once, for cron and tests)."""

from __future__ import annotations

import logging
import signal
import time

from .relay import Gateways, RelayStats, relay_pending_activities

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
            stats = relay_pending_activities(gateways)
            for name in ("claimed", "synced", "retried", "failed", "waiting", "local"):
                setattr(total, name, getattr(total, name) + getattr(stats, name))
            if stats.claimed:
                log.info("relay: %s", stats)
                continue
            if once:
                break
            time.sleep(interval)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return total
