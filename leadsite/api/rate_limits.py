"""Rate limits on a blueprint, as `limiter.limit(...)(blueprint)` sets them, parsed once.

Flask-Limiter calls a limit's callable on every request and parses the string it returns
(`limits.parse_many`: two regular expressions and a class lookup) into new `Limit` wrappers,
for a static string as for a callable's. A `ParsedOnce` group keeps what it parsed for each
string it has seen, so a request only calls the callable and looks its string up: a setting
changed at runtime still takes effect at the next request (a new string, parsed once), and
everything else (the storage, its fall-back to memory while Redis is away, the headers, the
429) stays Flask-Limiter's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint
from flask_limiter import Limiter
from flask_limiter.wrappers import Limit, LimitGroup

KEPT_STRINGS = 100  # settings change rarely: the cache never grows without bound


@dataclasses.dataclass(eq=True, unsafe_hash=True)
class ParsedOnce(LimitGroup):
    """A `LimitGroup` whose limits are parsed once for each string its provider returns."""

    parsed: dict[str, tuple[Limit, ...]] = dataclasses.field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def __iter__(self) -> Iterator[Limit]:
        provider = self.limit_provider
        value = provider() if callable(provider) else provider
        limits = self.parsed.get(value)
        if limits is None:
            limits = tuple(super().__iter__())  # a bad string raises ValueError, as before
            if len(self.parsed) < KEPT_STRINGS:
                self.parsed[value] = limits
        return iter(limits)


def limit_blueprint(
    limiter: Limiter, blueprint: Blueprint, value: str | Callable[[], str], **options: Any
) -> None:
    """`limiter.limit(value, **options)(blueprint)`, its limits parsed once."""
    group = limiter.limit(value, **options).limit_group
    fields = {field.name: getattr(group, field.name) for field in dataclasses.fields(LimitGroup)}
    limiter.limit_manager.add_blueprint_limit(blueprint.name, ParsedOnce(**fields))
