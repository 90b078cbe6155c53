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


def test_an_id_is_its_48_bits_of_milliseconds_then_80_random_bits_in_crockford_base32():
    # The two-characters-a-step encoder gives what the digit-a-step one gives.
    from leadsite.ids import _base32, _base32_130

    millis, random = 1_765_000_000_123, int.from_bytes(bytes(range(7, 17)))
    for value in (0, 1, 2**130 - 1, millis << 80 | random, 31 << 125):
        assert _base32_130(value) == _base32(value, 26)
    assert _base32_130(millis << 80 | random) == _base32(millis, 10) + _base32(random, 16)


def test_an_id_made_later_for_an_earlier_event_carries_and_sorts_by_that_events_time():
    # The ingestion log's writer names an entry after the call it records was answered.
    from leadsite.ids import _base32

    answered_ns = time.time_ns() - 5_000_000_000
    named_later = new_id("ing", answered_ns)

    assert named_later[4:14] == _base32(answered_ns // 1_000_000, 10)
    assert named_later < new_id("ing")
