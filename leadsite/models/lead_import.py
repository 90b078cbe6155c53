"""CSV imports: the uploaded file (its rows in chunks), the job that runs it, its refused rows."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadsite.extensions import db
from leadsite.models.base import ID
from leadsite.models.types import JSONType, UTCDateTime, utcnow


class ImportStatus(StrEnum):
    UPLOADING = "uploading"  # chunks still being written: nothing may run it yet
    UPLOADED = "uploaded"  # waiting for its mapping
    QUEUED = "queued"  # mapped; a worker runs it (also while running: see `locked_until`)
    FINISHED = "finished"
    CANCELLED = "cancelled"
    FAILED = "failed"


RUNNABLE = (ImportStatus.QUEUED,)
ENDED = (ImportStatus.FINISHED, ImportStatus.CANCELLED, ImportStatus.FAILED)


class LeadImport(db.Model):
    """An uploaded CSV file and the job that registers its rows, with its progress.

    The worker runs it a chunk at a time; each chunk's registrations commit with the progress
    they make (`next_row`, the counts, and `chunk_done` for a chunk committed row by row), so a
    job taken over after a worker died starts where the last commit left it.
    """

    __tablename__ = "lead_imports"
    __table_args__ = (Index("ix_lead_imports_workspace_id", "workspace_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the URL's token
    workspace_id: Mapped[str] = mapped_column(ID, ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[str | None] = mapped_column(ID)
    filename: Mapped[str] = mapped_column(String(200))
    columns: Mapped[list[str]] = mapped_column(JSONType, default=list)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    byte_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default=ImportStatus.UPLOADING)
    funnel_id: Mapped[str | None] = mapped_column(ID)  # no foreign key: a report outlives it
    # The origin the rows come through (the shell's `--origin`); else the funnel's import origin.
    origin_id: Mapped[str | None] = mapped_column(ID)
    mapping: Mapped[list[str]] = mapped_column(JSONType, default=list)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    next_row: Mapped[int] = mapped_column(Integer, default=0)  # rows of the finished chunks
    # Rows (0-based, in the file) of the chunk under way whose registration committed already.
    chunk_done: Mapped[list[int]] = mapped_column(JSONType, default=list)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    rejected_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32))  # the worker holding the lease
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def started(self) -> bool:
        return bool(self.mapping)

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    @property
    def rows_done(self) -> int:
        return self.next_row + len(self.chunk_done or [])


class LeadImportChunk(db.Model):
    """Consecutive rows of an import's file, as CSV (row number first); deleted once run."""

    __tablename__ = "lead_import_chunks"

    import_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("lead_imports.id", ondelete="CASCADE"), primary_key=True
    )
    first_row: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0-based, in the file
    row_count: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)


class LeadImportRejection(db.Model):
    """A row the import refused: its cells as they were and why, for the report's download."""

    __tablename__ = "lead_import_rejections"

    import_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("lead_imports.id", ondelete="CASCADE"), primary_key=True
    )
    row_index: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0-based, in the file
    number: Mapped[int] = mapped_column(Integer)  # the spreadsheet's row number
    label: Mapped[str] = mapped_column(String(300), default="")
    cells: Mapped[list[str]] = mapped_column(JSONType, default=list)
    reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)

    def as_row(self) -> dict[str, Any]:
        return {"row": self.number, "label": self.label, "reasons": self.reasons}
