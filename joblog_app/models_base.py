"""Column helpers shared by the feature models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import sqlalchemy as sa


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def enum_column(enum_cls: type[enum.StrEnum], name: str) -> sa.Enum:
    """A portable enum: VARCHAR plus a CHECK constraint, stored by value."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
