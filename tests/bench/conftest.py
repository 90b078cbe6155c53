"""The benches make their own databases: these tests need none of the suite's test database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _clean_state() -> Iterator[None]:
    """Overrides the suite's: no app, no test database to migrate and empty."""
    yield
