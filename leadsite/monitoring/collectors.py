"""What `/metrics` reads from the database at each scrape: the outbox's depth, the age of its
oldest due message, the journey steps waiting for a worker.

Two small queries on indexed columns (`ix_outbox_messages_status_next`): a scrape every 15 s
costs the database nothing noticeable. If it cannot be asked, `leadsite_database_up` says 0
and the rest is left out, so the scrape itself still succeeds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from leadsite.extensions import db
from leadsite.models import MessageStatus, OutboxMessage, utcnow

log = logging.getLogger(__name__)


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "leadsite_database_up", "Whether the database answered this scrape's queries"
        )
        try:
            metrics = list(self._outbox()) + list(self._steps())
        except SQLAlchemyError as error:
            db.session.rollback()
            log.warning("metrics: the database query failed: %s", str(error).splitlines()[0])
            up.add_metric([], 0)
            yield up
            return
        finally:
            # Nothing of the scrape's stays open (on SQLite a read transaction pins the WAL).
            db.session.rollback()
        up.add_metric([], 1)
        yield up
        yield from metrics

    def _outbox(self) -> Iterator[Metric]:
        now = utcnow()
        # Grouped by its label: PostgreSQL would not match two copies of the expression.
        timing = db.case((OutboxMessage.next_attempt_at <= now, "due"), else_="scheduled")
        timing = timing.label("timing")
        rows = db.session.execute(
            db.select(
                OutboxMessage.status,
                timing,
                db.func.count(),
                db.func.min(OutboxMessage.next_attempt_at),
            )
            .where(OutboxMessage.status.in_([MessageStatus.PENDING, MessageStatus.DEAD]))
            .group_by(OutboxMessage.status, timing)
        ).all()
        depth = GaugeMetricFamily(
            "leadsite_outbox_messages",
            "Outbox messages not delivered: pending and due, pending and scheduled for a later "
            "retry, or dead (every retry failed)",
            labels=["state"],
        )
        counts = {"due": 0, "scheduled": 0, "dead": 0}
        oldest_due = None
        for status, timing, count, earliest in rows:
            state = "dead" if status == MessageStatus.DEAD else timing
            counts[state] += count
            if state == "due" and earliest is not None:
                oldest_due = earliest if oldest_due is None else min(oldest_due, earliest)
        for state, count in counts.items():
            depth.add_metric([state], count)
        yield depth
        age = GaugeMetricFamily(
            "leadsite_outbox_oldest_due_age_seconds",
            "How long the oldest due message has waited for a worker (0: none waiting)",
        )
        age.add_metric([], max((now - oldest_due).total_seconds(), 0.0) if oldest_due else 0.0)
        yield age

    def _steps(self) -> Iterator[Metric]:
        from leadsite.journeys.engine import due_automatic_steps

        now = utcnow()
        waiting = due_automatic_steps(now).order_by(None).subquery()
        count, earliest = db.session.execute(
            db.select(db.func.count(), db.func.min(waiting.c.due_at))
        ).one()
        steps = GaugeMetricFamily(
            "leadsite_journey_steps_due", "Automatic journey steps due and waiting for a worker"
        )
        steps.add_metric([], count)
        yield steps
        age = GaugeMetricFamily(
            "leadsite_journey_steps_oldest_due_age_seconds",
            "How long the oldest due automatic step has waited for a worker (0: none waiting)",
        )
        age.add_metric([], max((now - earliest).total_seconds(), 0.0) if earliest else 0.0)
        yield age
