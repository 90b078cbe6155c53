"""`batch_writer.write_or_split`: a refused row is left out, an unavailable database is
reported once per batch."""

from __future__ import annotations

import logging
import sqlite3

from sqlalchemy.exc import IntegrityError, OperationalError

from leadsite.batch_writer import write_or_split


def _rows(count: int) -> list[dict[str, int]]:
    return [{"n": number} for number in range(count)]


def test_a_database_away_is_logged_once_per_batch_not_per_row(caplog):
    calls: list[int] = []

    def write(rows):
        calls.append(len(rows))
        raise OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))

    with caplog.at_level(logging.WARNING, logger="leadsite.batch_writer"):
        assert write_or_split(_rows(5), write, "an entry") == 0

    assert calls == [5]  # not tried again row by row (each would wait the busy timeout)
    (record,) = caplog.records
    assert record.getMessage() == "an entry: 5 not written, the database is unavailable"


def test_refused_rows_are_left_out_one_by_one(caplog):
    written: list[int] = []

    def write(rows):
        if len(rows) > 1 or rows[0]["n"] in (1, 3):
            raise IntegrityError("INSERT", {}, sqlite3.IntegrityError("FOREIGN KEY"))
        written.append(rows[0]["n"])

    with caplog.at_level(logging.WARNING, logger="leadsite.batch_writer"):
        assert write_or_split(_rows(5), write, "an entry") == 3

    assert written == [0, 2, 4]
    assert [record.getMessage() for record in caplog.records] == ["an entry was refused"] * 2


def test_a_database_lost_while_splitting_is_logged_once(caplog):
    def write(rows):
        if len(rows) > 1 or rows[0]["n"] == 0:
            raise IntegrityError("INSERT", {}, sqlite3.IntegrityError("FOREIGN KEY"))
        raise OperationalError("INSERT", {}, sqlite3.OperationalError("disk I/O error"))

    with caplog.at_level(logging.WARNING, logger="leadsite.batch_writer"):
        assert write_or_split(_rows(5), write, "an entry") == 0

    assert [record.getMessage() for record in caplog.records] == [
        "an entry was refused",
        "an entry: 4 not written, the database is unavailable",
    ]
