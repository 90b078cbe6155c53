"""Medians and 90th percentiles as PostgreSQL's percentile_cont computes them (linear between
the closest ranks), from the few ranked values around each percentile: the journey funnel
finds them through its time-spent histogram (`journey_funnel._percentiles`)."""

from __future__ import annotations

MEDIAN, P90 = 0.5, 0.9


def interpolated(ranked: dict[int, float], count: int, fraction: float) -> float:
    """The `fraction` percentile of `count` sorted values, of which `ranked` holds those (by rank
    from 1) around it: linear between the closest ranks, as PostgreSQL's percentile_cont."""
    position = fraction * (count - 1)
    low = int(position)
    below = ranked[low + 1]
    above = ranked.get(low + 2, below)
    return below + (position - low) * (above - below)
