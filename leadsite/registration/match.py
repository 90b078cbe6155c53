"""Step 3 of the pipeline: which lead a registration updates, and what it cannot store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import String

from leadsite.database import hold_named_locks
from leadsite.extensions import db
from leadsite.models import Lead
from leadsite.registration.errors import Conflict
from leadsite.registration.validate import IDENTIFIERS, CleanLead, label

# Built once: every registration runs one. An identifier not given is bound as NULL, which
# equals nothing. Each identifier is paired with the workspace so that SQLite searches each
# unique index (a MULTI-INDEX OR): `workspace_id = ? AND (... OR ...)` walks the workspace.
MATCH_QUERY = db.select(Lead).where(
    db.or_(
        *(
            (Lead.workspace_id == db.bindparam("workspace_id"))
            & (getattr(Lead, name) == db.bindparam(name, type_=String))
            for name in IDENTIFIERS
        )
    )
)
# On PostgreSQL the lead's row is locked FOR NO KEY UPDATE, not FOR UPDATE: the latter also
# blocks every insert that refers to the lead (a foreign key check takes KEY SHARE), such as
# the events and outbox messages the worker writes while it runs the lead's journey steps.
# In the order of their ids (PostgreSQL locks the rows as sorted), as bulk actions lock leads.
MATCH_FOR_UPDATE = MATCH_QUERY.order_by(Lead.id).with_for_update(key_share=True)


@dataclass
class Match:
    lead: Lead | None = None
    by: str = ""
    conflicts: list[Conflict] = field(default_factory=list)


def find_existing(workspace_id: str, cleaned: CleanLead) -> Match:
    """The lead to update, locked for update, and the identifiers given that cannot be stored.

    The match is by the identifier that decides it (the funnel's, or the one the door names).
    Another identifier matches only a lead on which that one is empty, or when the input has
    none: `b@x` with the phone of `a@x` is another person, who must neither overwrite `a@x` nor
    be lost, so `b@x` is made without the phone and the conflict is reported.

    On PostgreSQL the registration first takes a named lock on each identifier it gives, so
    registrations of the same person match one after the other: the second finds the lead the
    first created, where both would otherwise find none and race to insert it. Then the lead's
    row, then its journey: every writer of a journey (the worker's steps, staff completing a
    task) locks in that order too (`journeys.engine`).
    """
    given = {name: cleaned.identifier(name) for name in IDENTIFIERS}
    if not any(given.values()):
        return Match()
    hold_named_locks(identifier_locks(workspace_id, [cleaned]))
    query = MATCH_FOR_UPDATE if db.engine.dialect.name == "postgresql" else MATCH_QUERY
    candidates = list(db.session.scalars(query, {"workspace_id": workspace_id, **given}))
    return choose(candidates, cleaned)


def identifier_locks(workspace_id: str, inputs: list[CleanLead]) -> list[str]:
    """The names of the advisory locks registrations of these inputs take (`hold_named_locks`):
    one per identifier given, so that two registrations of one person take turns."""
    return [
        f"lead:{workspace_id}:{name}:{value}"
        for cleaned in inputs
        for name in IDENTIFIERS
        if (value := cleaned.identifier(name))
    ]


def find_all(
    workspace_id: str, inputs: list[CleanLead], lock: bool = True
) -> dict[tuple[str, str], Lead]:
    """Every lead of the workspace holding an identifier one of `inputs` gives, by (identifier,
    value), read with one query (a list of values per identifier kind) and, with `lock`, locked
    as `find_existing` locks (the caller holds the identifiers' named locks already)."""
    if len(inputs) == 1:
        # A registration on its own (most are): the query built once, not one built per call.
        given = {name: inputs[0].identifier(name) or None for name in IDENTIFIERS}
        if not any(given.values()):
            return {}
        locked = lock and db.engine.dialect.name == "postgresql"
        query = MATCH_FOR_UPDATE if locked else MATCH_QUERY
        return _by_identifier(db.session.scalars(query, {"workspace_id": workspace_id, **given}))
    conditions = []
    for name in IDENTIFIERS:
        wanted = sorted({value for c in inputs if (value := c.identifier(name))})
        if wanted:
            # Paired with the workspace, as in MATCH_QUERY: SQLite searches each unique index.
            conditions.append((Lead.workspace_id == workspace_id) & getattr(Lead, name).in_(wanted))
    if not conditions:
        return {}
    query = db.select(Lead).where(db.or_(*conditions))
    if lock and db.engine.dialect.name == "postgresql":
        query = query.order_by(Lead.id).with_for_update(key_share=True)
    return _by_identifier(db.session.scalars(query))


def _by_identifier(leads: Iterable[Lead]) -> dict[tuple[str, str], Lead]:
    found: dict[tuple[str, str], Lead] = {}
    for lead in leads:
        for name in IDENTIFIERS:
            if value := getattr(lead, name):
                found[name, value] = lead
    return found


def candidates_in(found: dict[tuple[str, str], Lead], cleaned: CleanLead) -> list[Lead]:
    """The leads of `find_all`'s answer that hold an identifier `cleaned` gives, as the query of
    `find_existing` would have found them."""
    leads: dict[str, Lead] = {}
    for name in IDENTIFIERS:
        value = cleaned.identifier(name)
        lead = found.get((name, value)) if value else None
        if lead is not None:
            leads[lead.id] = lead
    return sorted(leads.values(), key=lambda lead: lead.id)


def choose(candidates: list[Lead], cleaned: CleanLead) -> Match:
    """Which of the candidates (the leads holding an identifier `cleaned` gives) it updates, and
    the identifiers it gives that it cannot store."""
    given = {name: cleaned.identifier(name) for name in IDENTIFIERS}
    primary = cleaned.match_by
    match = Match()
    if given.get(primary):
        match.lead = next((c for c in candidates if getattr(c, primary) == given[primary]), None)
        match.by = primary if match.lead is not None else ""
    for name in IDENTIFIERS:
        if match.lead is not None:
            break
        if name == primary or not given[name]:
            continue
        for candidate in candidates:
            if getattr(candidate, name) == given[name] and (
                not given.get(primary) or not getattr(candidate, primary)
            ):
                match.lead, match.by = candidate, name
                break
    for name in IDENTIFIERS:
        value = given[name]
        if not value:
            continue
        holder = next(
            (c for c in candidates if c is not match.lead and getattr(c, name) == value), None
        )
        if holder is not None:
            whose = f"lead {holder.id}" + (
                f" (another person: its {primary.replace('_', ' ')} differs)"
                if getattr(holder, primary)
                else ""
            )
            what = "created" if match.lead is None else "updated"
            match.conflicts.append(
                Conflict(
                    name,
                    value,
                    f"{label(name)} {value} belongs to {whose}, so this lead was {what} "
                    f"without it: a {name.replace('_', ' ')} is unique in a workspace",
                    holder.id,
                )
            )
        elif match.lead is not None and getattr(match.lead, name) not in (None, "", value):
            match.conflicts.append(
                Conflict(
                    name,
                    value,
                    f"{label(name)} {value} was not stored: the lead keeps its own, "
                    f"{getattr(match.lead, name)}",
                    match.lead.id,
                )
            )
    return match
