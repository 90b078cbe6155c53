"""Time zones and countries as the workspace settings offer them: current names, people's
words (Netherlands, not NL)."""

from __future__ import annotations

import zoneinfo
from functools import cache
from importlib import resources
from pathlib import Path

import phonenumbers
from babel import Locale

UTC_NAME = "UTC"
# The tz database's table of the zones in use: one current name per zone, with its country.
ZONE_TABLE = "zone.tab"
# Its compiled source, whose `L target name` lines are the links: old names among them.
ZONE_SOURCE = "tzdata.zi"
# The back-office speaks English.
NAMES = Locale("en")


def _tz_file(name: str) -> str:
    """A file of the tz database: the system's (where zoneinfo reads zones), else the tzdata
    package's; empty when neither has it."""
    for directory in zoneinfo.TZPATH:
        path = Path(directory, name)
        if path.is_file():
            return path.read_text(encoding="utf-8")
    try:
        return resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return ""


@cache
def time_zones() -> dict[str, str]:
    """Each time zone in use, by its current name, with the country it is in, sorted by name;
    UTC last. Old names (US/Pacific, GMT+0, Asia/Calcutta) are links, not in the table."""
    zones = {}
    for line in _tz_file(ZONE_TABLE).splitlines():
        if line and not line.startswith("#"):
            code, _coordinates, name = line.split("\t")[:3]
            zones[name] = NAMES.territories.get(code, code)
    if not zones:  # no table to read: every name zoneinfo knows
        zones = dict.fromkeys(zoneinfo.available_timezones() - {UTC_NAME}, "")
    return {**dict(sorted(zones.items())), UTC_NAME: "Coordinated Universal Time"}


@cache
def old_time_zone_names() -> dict[str, str]:
    """The current name of each old one (`US/Pacific` → `America/Los_Angeles`)."""
    links = {}
    for line in _tz_file(ZONE_SOURCE).splitlines():
        if line.startswith("L "):
            _, target, name = line.split()[:3]
            links[name] = target
    current = time_zones()
    # A link may lead to another link (Asia/Calcutta → Asia/Kolkata is a zone; Europe/Amsterdam,
    # a current name, is a link to Europe/Brussels): only names not current are old.
    return {name: target for name, target in links.items() if name not in current}


def time_zone_problem(name: str) -> str | None:
    """Why `name` is not a time zone to choose, or None."""
    if name in time_zones():
        return None
    current = old_time_zone_names().get(name)
    if current in time_zones():
        return f"{name} is an old name: choose {current}."
    return "Choose a time zone from the list, such as Europe/Paris or America/New_York."


@cache
def countries() -> list[tuple[str, str]]:
    """(code, name) of each country phone numbers can be read for, by name."""
    codes = (code for code in phonenumbers.SUPPORTED_REGIONS if code.isalpha() and len(code) == 2)
    return sorted(
        ((code, NAMES.territories.get(code, code)) for code in codes),
        key=lambda choice: choice[1],
    )
