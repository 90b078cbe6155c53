"""Baseline for bench/register.py: bare Flask + SQLAlchemy, one row inserted per POST /leads."""

from __future__ import annotations

import os
import sqlite3
import sys
from datetime import UTC, datetime
from typing import Any

from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, String, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from werkzeug.wrappers import Response


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Lead(db.Model):  # type: ignore[name-defined]
    __tablename__ = "bare_lead"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    """The same SQLite settings as leadsite/database.py."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _database_url() -> str:
    url = os.environ["DATABASE_URL"]
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = _database_url()
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
db.init_app(app)


@app.get("/healthz")
def healthz() -> tuple[Response, int]:
    return jsonify(status="ok"), 200


@app.post("/leads")
def create_lead() -> tuple[Response, int]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("email"), str):
        return jsonify(success=False, error="email is required"), 422
    lead = Lead(
        email=data["email"], first_name=data.get("first_name"), created_at=datetime.now(UTC)
    )
    db.session.add(lead)
    db.session.commit()
    return jsonify(success=True, created=True, data={"id": lead.id, "email": lead.email}), 201


if __name__ == "__main__":
    if sys.argv[1:] != ["init-db"]:
        sys.exit("usage: DATABASE_URL=... python bench/bare_app.py init-db")
    with app.app_context():
        db.create_all()
