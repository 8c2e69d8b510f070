"""Each municipality's way to the record: which gateway carries its entries."""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models_base import enum_column


class RecordGatewayKind(enum.StrEnum):
    """How a municipality's entries reach the record (see gateway.py and export.py)."""

    HTTP = "http"
    EXPORT = "export"
    NONE = "none"


class RecordSettings(db.Model):
    """A municipality's record settings; no row means no gateway (entries wait)."""

    municipality_id: Mapped[int] = mapped_column(
        sa.ForeignKey("municipality.id", ondelete="CASCADE"), primary_key=True)
    gateway: Mapped[RecordGatewayKind] = mapped_column(
        enum_column(RecordGatewayKind, "record_gateway"), default=RecordGatewayKind.NONE)
