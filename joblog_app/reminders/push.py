"""Sending web push messages (RFC 8030/8291/8292) with pywebpush's async path.

One ``aiohttp`` session for the worker's life, a bounded number of requests in flight,
and the VAPID header signed once per push-service origin (vapid.py) rather than per
message. Nothing here touches the database: jobs.py claims, calls ``send_all`` and records.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import aiohttp
from pywebpush import WebPusher

from .vapid import Vapid

T = TypeVar("T")


@dataclass(frozen=True)
class Message:
    delivery_id: int
    endpoint: str
    origin: str
    p256dh: str
    auth: str
    data: bytes
    ttl: int
    urgency: str
    topic: str


@dataclass(frozen=True)
class Answer:
    delivery_id: int
    status: int  # 0: no answer (network error or timeout)
    retry_after: float | None = None
    detail: str = ""


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


class Sender:
    """An event loop in a thread of its own with one shared ``aiohttp`` session."""

    def __init__(self, vapid: Vapid, concurrency: int = 64, timeout: float = 10.0) -> None:
        self.vapid = vapid
        self.concurrency = concurrency
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="push-sender",
                                        daemon=True)
        self._thread.start()
        self._session: aiohttp.ClientSession | None = None

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    async def _session_get(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self.concurrency, limit_per_host=self.concurrency,
                                             ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self.timeout)
        return self._session

    async def _one(self, session: aiohttp.ClientSession, gate: asyncio.Semaphore,
                   message: Message) -> Answer:
        async with gate:
            headers = {"Authorization": self.vapid.header(message.origin),
                       "Urgency": message.urgency, "Topic": message.topic}
            pusher = WebPusher({"endpoint": message.endpoint,
                                "keys": {"p256dh": message.p256dh, "auth": message.auth}},
                               aiohttp_session=session)
            try:
                resp = await pusher.send_async(data=message.data, headers=headers, ttl=message.ttl,
                                               content_encoding="aes128gcm", timeout=self.timeout)
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                return Answer(message.delivery_id, 0, detail=type(exc).__name__)
            assert not isinstance(resp, str)
            status = resp.status
            detail = ""
            if status >= 400:
                detail = (await resp.text())[:200] if not resp.closed else ""
            return Answer(message.delivery_id, status,
                          retry_after_seconds(resp.headers.get("Retry-After"), time.time()), detail)

    async def _all(self, messages: list[Message]) -> list[Answer]:
        session = await self._session_get()
        gate = asyncio.Semaphore(self.concurrency)
        return await asyncio.gather(*(self._one(session, gate, m) for m in messages))

    def send_all(self, messages: list[Message]) -> list[Answer]:
        """Send every message (at most ``concurrency`` at a time); one answer each, in order."""
        if not messages:
            return []
        return self._run(self._all(messages))

    def close(self) -> None:
        async def _close() -> None:
            if self._session is not None:
                await self._session.close()

        self._run(_close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
