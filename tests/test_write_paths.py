"""The registration's write path: `NewRows` (Core INSERTs of new objects) and SQLite writers
taking turns (`writers_turn`)."""

from __future__ import annotations

import threading
import time

from leadsite.database import writers_turn
from leadsite.extensions import db
from leadsite.journeys import start_journey
from leadsite.models import Journey, Lead
from leadsite.models.rows import NewRows
from tests import factories
from tests.statements import captured_statements


def test_new_rows_are_inserted_parents_first_then_join_the_session_without_another_insert():
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    lead = Lead(workspace_id=ws.id, email="ada@example.com")
    journey = start_journey(lead, funnel, None)
    rows = NewRows()
    rows.add(journey)  # the child first: the journey's lead_id needs the lead's row
    rows.add(lead)
    with captured_statements() as captured:
        rows.write(db.session)
        db.session.add_all([lead, journey])
        db.session.commit()
        last_name = lead.last_name  # never set: written NULL, known without a query
    sent = [statement for statement, _ in captured]

    # The commit adds the journey's counts to the analytics rollup (`analytics.rollup_session`).
    inserts = [sql.split("(")[0].strip() for sql in sent if sql.startswith("INSERT")]
    assert inserts == ["INSERT INTO leads", "INSERT INTO journeys", "INSERT INTO journey_counts"]
    reads = [sql for sql in sent if sql.startswith("SELECT")]
    assert last_name is None and not any(
        " FROM leads" in sql or " FROM journeys" in sql for sql in reads
    )
    db.session.expunge_all()
    stored = db.session.get(Journey, journey.id)
    assert stored.lead.email == "ada@example.com" and stored.funnel_id == funnel.id
    assert db.session.get(Lead, lead.id).counter == 1  # the model's default, applied when made
    # A JSON column never set is SQL NULL, as the ORM leaves it, not JSON `null`.
    unset = db.select(Lead.id).where(Lead.id == lead.id, Lead.consent.is_(None))
    assert db.session.scalar(unset) == lead.id


def test_a_sqlite_writer_waits_in_line_until_the_one_before_it_is_done(app):
    """On PostgreSQL there is no line: row locks let writers work at once."""
    order: list[str] = []
    in_line = threading.Event()

    def second_writer() -> None:
        with app.app_context():
            in_line.set()
            with writers_turn():
                order.append("second")

    with writers_turn():
        thread = threading.Thread(target=second_writer)
        thread.start()
        in_line.wait(5)
        time.sleep(0.2)  # time enough for the second writer to get in, were there no line
        order.append("first")
    thread.join(5)

    if db.engine.dialect.name == "sqlite":
        assert order == ["first", "second"]
    else:
        assert order == ["second", "first"]
