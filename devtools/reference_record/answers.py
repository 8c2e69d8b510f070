"""What a handler answers, and the two ways a request ends early."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Body = dict[str, Any] | list[Any] | None


@dataclass
class Answer:
    status: int
    body: Body = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # stored; shut the connection instead of answering (a fault)


class Reply(Exception):
    """Answer now with this status and JSON body (raised from deep inside a handler)."""

    def __init__(self, status: int, body: Body = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.answer = Answer(status, body, headers or {})


class Stopped(Exception):
    """The service is shutting down; the request is abandoned without an answer."""
