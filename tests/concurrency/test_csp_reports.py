"""Reports of one refused frame arriving together, through a real server, count as many times
on one row: the first inserts it, the others add to it (the unique key decides)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from leadsite.extensions import db
from leadsite.models import EmbedViolation, OriginKind
from tests import factories
from tests.concurrency.conftest import KINDS, serve
from tests.public.test_csp_reports import chromium_report, report_path

PARALLEL = 10


@pytest.mark.parametrize("kind", KINDS)
def test_parallel_reports_of_a_new_site_make_one_row_that_counts_them_all(
    app: Flask, kind: str, tmp_path: Path
) -> None:
    funnel = factories.staged_funnel(factories.workspace())
    origin = factories.origin(funnel, OriginKind.EMBED, allowed_domains=["https://shop.example"])
    with app.test_client() as client:
        path = report_path(client, origin, referer="https://blog.other.example")

    with serve(app, kind, tmp_path) as server:
        answers = server.post_all(path, [chromium_report()] * PARALLEL, {})

    assert [answer.status for answer in answers] == [204] * PARALLEL
    db.session.rollback()
    db.session.expire_all()
    rows = db.session.scalars(db.select(EmbedViolation).filter_by(origin_id=origin.id)).all()
    assert [(row.host, row.count) for row in rows] == [("https://blog.other.example", PARALLEL)]
