"""Switchable faults: latency, 500/503, 429 + Retry-After, a connection dropped after the
change was stored. (Expiring every token is one-shot and lives with the tokens.)"""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

from .answers import Reply, Stopped
from .validation import ContractError

DEFAULTS: dict[str, Any] = {
    "latency_ms": 0,
    "error_rate": 0.0,
    "rate_limit_rate": 0.0,
    "retry_after": 1,
    "drop_after_store_rate": 0.0,
    "seed": None,
}
KEYS = (*DEFAULTS, "expire_tokens_now")
_RATES = ("error_rate", "rate_limit_rate", "drop_after_store_rate")
_UPPER = {"latency_ms": 600_000, "retry_after": 86_400}


def _number(name: str, value: Any, upper: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= upper:
        raise ContractError(name, f"must be a number from 0 to {upper}")
    return value


def check(faults: dict[str, Any]) -> dict[str, Any]:
    """The faults as given, checked; ``ContractError`` (a ``ValueError``) on a bad one."""
    clean: dict[str, Any] = {}
    for name, value in faults.items():
        if name not in KEYS:
            raise ContractError(name, "unknown fault; one of " + ", ".join(KEYS))
        if name in _RATES:
            clean[name] = float(_number(name, value, 1))
        elif name in _UPPER:
            clean[name] = int(_number(name, value, _UPPER[name]))
        elif name == "seed":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ContractError(name, "must be an integer or null")
            clean[name] = value
        elif not isinstance(value, bool):  # expire_tokens_now
            raise ContractError(name, "must be true or false")
        else:
            clean[name] = value
    return clean


class Faults:
    def __init__(self, stopping: threading.Event) -> None:
        self._values = dict(DEFAULTS)
        self._lock = threading.Lock()
        self._rng = random.Random()
        self._stopping = stopping
        self.applied: Counter[str] = Counter()

    @property
    def current(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._values)

    def update(self, clean: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._values.update(clean)
            if "seed" in clean:
                self._rng.seed(clean["seed"])
            return dict(self._values)

    def count(self, name: str) -> None:
        with self._lock:
            self.applied[name] += 1

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self.applied.items()))

    def clear_counts(self) -> None:
        with self._lock:
            self.applied.clear()

    def roll(self) -> tuple[dict[str, Any], list[float]]:
        """The faults now and four random draws (fixed: the same seed tells the same story)."""
        with self._lock:
            return dict(self._values), [self._rng.random() for _ in range(4)]

    def delay(self, f: dict[str, Any]) -> None:
        if f["latency_ms"]:
            self.count("latency")
            if self._stopping.wait(f["latency_ms"] / 1000):
                raise Stopped

    def fail(self, f: dict[str, Any], rolls: list[float]) -> bool:
        """429 or 500/503 by chance; otherwise whether to drop the connection after storing."""
        if rolls[0] < f["rate_limit_rate"]:
            self.count("rateLimited")
            raise Reply(429, {"errorCode": "RATE_LIMITED", "message": "too many requests"},
                        {"Retry-After": str(f["retry_after"])})
        if rolls[1] < f["error_rate"]:
            if rolls[2] < 0.5:
                self.count("error500")
                raise Reply(500, {"errorCode": "INTERNAL_ERROR"})
            self.count("error503")
            raise Reply(503, {"errorCode": "UNAVAILABLE"})
        return rolls[3] < f["drop_after_store_rate"]
