"""Declarative base pieces: the prefixed primary key and created/updated timestamps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from leadsite.ids import id_factory
from leadsite.models.types import UTCDateTime, utcnow

ID = String(40)


class PublicIdMixin:
    """A primary key that is also the public id: `<id_prefix>_<26 chars>`."""

    id_prefix: str

    @declared_attr
    def id(cls) -> Mapped[str]:
        return mapped_column(ID, primary_key=True, default=id_factory(cls.id_prefix))


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
