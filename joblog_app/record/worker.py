"""The relay as a worker job: every due entry, batch after batch, to the municipal record."""

from __future__ import annotations

import logging

from flask import current_app

from ..worker import Stopping
from .relay import Gateways, relay_continuously

log = logging.getLogger("joblog.worker")


class RelayJob:
    """Relays batches while entries are due (at most ``RECORD_BATCHES_PER_ROUND`` in a
    round, or until ``stopping()``) and returns how many entries it claimed. Each batch is
    claimed, sent and recorded in its own transactions (relay.py): the lease is committed
    before anything is sent. The gateways live as long as the worker, so the HTTP gateway
    keeps its connections and token between rounds."""

    def __init__(self) -> None:
        self._gateways: Gateways | None = None

    def __call__(self, stopping: Stopping) -> int:
        if self._gateways is None:
            self._gateways = Gateways()
        claimed = batches = 0
        limit = int(current_app.config["RECORD_BATCHES_PER_ROUND"])

        def enough() -> bool:  # then the other jobs get their turn (login codes first)
            return stopping() or batches >= limit

        for stats in relay_continuously(self._gateways, enough):
            claimed += stats.claimed
            batches += 1
            log.info("relay: %s", stats)
        return claimed
