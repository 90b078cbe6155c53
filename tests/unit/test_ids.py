"""Public ids are prefixed, opaque and ordered by creation time."""

from __future__ import annotations

import re
import time

from leadsite.ids import new_id


def test_ids_carry_their_type_prefix_and_26_characters():
    assert re.fullmatch(r"lead_[0-9a-hjkmnp-tv-z]{26}", new_id("lead"))


def test_ids_sort_by_creation_time():
    first = new_id("lead")
    time.sleep(0.002)
    second = new_id("lead")

    assert first < second


def test_ids_made_in_the_same_millisecond_are_distinct():
    assert len({new_id("lead") for _ in range(10_000)}) == 10_000
