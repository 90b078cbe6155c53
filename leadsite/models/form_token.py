"""Public form tokens already used: each signed form token registers one submission."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from leadsite.extensions import db
from leadsite.models.types import UTCDateTime


class UsedFormToken(db.Model):
    """The nonce of a form token that was sent; kept until the token would have expired anyway."""

    __tablename__ = "used_form_tokens"

    nonce: Mapped[str] = mapped_column(String(40), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
