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


def test_new_id_writes_the_time_then_the_random_bits_as_the_whole_value_would_be(monkeypatch):
    # `new_id` keeps the last millisecond's characters and writes the random ones by pairs:
    # the text must stay `_base32` of the 130-bit value, for the first millisecond (0), for a
    # millisecond repeated with other random bits, and for the next one.
    from leadsite import ids

    draws = [bytes(10), bytes(range(7, 17)), b"\xff" * 10, bytes(range(200, 210))] * 2
    monkeypatch.setattr(ids.os, "urandom", lambda size: draws[0][:size])
    for millis in (0, 0, 1_765_000_000_123, 1_765_000_000_123, 2**48 - 1, 1, 1, 0):
        random = int.from_bytes(draws[0])
        made = ids.new_id("lead", millis * 1_000_000 + 999_999)
        assert made == "lead_" + ids._base32(millis << 80 | random, 26)
        draws.pop(0)


def test_a_share_code_is_its_40_random_bits_in_crockford_base32(monkeypatch):
    from leadsite import ids

    for drawn in (bytes(5), b"\xff" * 5, bytes(range(3, 8))):
        monkeypatch.setattr(ids.os, "urandom", lambda size, drawn=drawn: drawn[:size])
        assert ids.new_share_code() == ids._base32(int.from_bytes(drawn), 8)
