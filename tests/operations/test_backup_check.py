"""deploy/backup-check.sh: a pg_dump of the database restores with pg_restore into a scratch
database with every row (counts, checksums) and the migration revision."""

from __future__ import annotations

import os
import subprocess

import pytest

from leadsite.extensions import db
from tests.operations.conftest import ApiWorld
from tests.operations.processes import ROOT

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="pg_dump and pg_restore: runs with TEST_DATABASE_URL on PostgreSQL",
)


def test_a_dump_restores_every_row(api: ApiWorld, tmp_path):
    for name in ("ada", "bob"):
        assert api.register({"email": f"{name}@example.com"}).status_code == 201
    db.session.remove()
    url = db.engine.url.render_as_string(hide_password=False)
    dump = tmp_path / "leadsite.dump"

    result = subprocess.run(
        [str(ROOT / "deploy" / "backup-check.sh"), url, str(dump)],
        env={**os.environ, "SCRATCH_DB": f"{db.engine.url.database}_restorecheck"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.split() == ["leads", "2", "rows"] for line in lines), result.stdout
    revision = db.session.scalar(db.text("SELECT version_num FROM alembic_version"))
    assert lines[-1].startswith("OK: ") and lines[-1].endswith(f"revision {revision}")
    assert dump.stat().st_size > 0  # a dump file named is kept
