"""Which variables a staff-written email template reads, and which of them do not exist.

A template reads `lead.<field>`, `data.<data point>`, `journey_url` and `funnel` (what
`emails.template_context` offers). A misspelt one renders as nothing ("You're in, !"), so an
activity is refused at save when a template names a variable the context does not offer, with
the closest name it does (`difflib`). The template is parsed, never rendered: names bound in it
(loop variables, `set`, macro arguments) and Jinja's globals (`range`, `loop`) are not unknown.
Stored activities are not checked again when they run.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from jinja2 import TemplateError, nodes

from leadsite.extensions import db
from leadsite.journeys import sandbox
from leadsite.models import UTM_FIELDS, DataPoint

TOP_LEVEL = ("lead", "data", "journey_url", "funnel")
# The keys of `emails.template_context()["lead"]` (a test keeps the two the same).
LEAD_FIELDS = (
    "first_name",
    "last_name",
    "name",
    "email",
    "phone",
    "status",
    "tags",
    "custom",
    "source",
    *UTM_FIELDS,
)
# Methods of the dicts `lead`, `lead.custom` and `data` a template may call.
DICT_METHODS = frozenset({"get", "items", "keys", "values"})
HINTS = {
    "lead": "Lead's field",
    "data": "Data point",
    "journey_url": "Link to the lead's journey page",
    "funnel": "Funnel's name",
}


@dataclass(frozen=True)
class Variables:
    """What a workspace's templates may read: fixed lead fields and its data point names (the
    archived ones are still read, but not offered in the picker)."""

    data_points: tuple[str, ...] = ()
    archived: tuple[str, ...] = ()

    def catalogue(self) -> list[tuple[str, str]]:
        """Every variable as (path, what it is), for the editor's picker."""
        return [
            *((f"lead.{name}", HINTS["lead"]) for name in LEAD_FIELDS),
            *((f"data.{name}", HINTS["data"]) for name in self.data_points),
            ("journey_url", HINTS["journey_url"]),
            ("funnel", HINTS["funnel"]),
        ]

    def problem(self, path: tuple[str, ...]) -> str | None:
        """Why the variable at `path` does not exist, or None when the context offers it."""
        top = path[0]
        if top not in TOP_LEVEL:
            return _unknown("", top, TOP_LEVEL)
        if top in ("lead", "data") and len(path) > 1:
            name = path[1]
            known = LEAD_FIELDS if top == "lead" else self.data_points
            if name not in known and name not in DICT_METHODS and name not in self.archived:
                return _unknown(f"{top}.", name, known)
        return None


def workspace_variables(workspace_id: str) -> Variables:
    """What the workspace's templates may read (one query)."""
    rows = db.session.execute(
        db.select(DataPoint.name, DataPoint.archived_at)
        .filter_by(workspace_id=workspace_id)
        .order_by(DataPoint.name)
    ).all()
    return Variables(
        data_points=tuple(name for name, archived_at in rows if archived_at is None),
        archived=tuple(name for name, archived_at in rows if archived_at is not None),
    )


def _unknown(prefix: str, name: str, candidates: tuple[str, ...]) -> str:
    """The sentence for `prefix + name`, with the closest of `candidates` (names compared
    without their common prefix, so `lead.vip` is not taken for `lead.phone`)."""
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if close:
        return f"Unknown variable `{prefix}{name}`: did you mean `{prefix}{close[0]}`?"
    return f"Unknown variable `{prefix}{name}`."


@lru_cache(maxsize=512)
def variable_paths(source: str) -> tuple[tuple[str, ...], ...]:
    """The context variables `source` reads, as attribute paths (`("lead", "first_name")`), in
    the order they appear; empty when it does not parse (that is `check_template`'s to say).
    Remembered: a data point's uses parse every template of its workspace."""
    try:
        tree = sandbox.parse(source)
    except TemplateError:
        return ()
    bound = {name.name for name in tree.find_all(nodes.Name) if name.ctx in ("store", "param")} | {
        "loop",
        "caller",
        "varargs",
        "kwargs",
        *sandbox.global_names(),
    }
    bound |= {macro.name for macro in tree.find_all(nodes.Macro)}
    return tuple(path for path in _walk(tree) if path[0] not in bound)


def _walk(node: nodes.Node) -> Iterator[tuple[str, ...]]:
    if isinstance(node, nodes.Call) and (path := _get_call_path(node)) is not None:
        yield path
        rest = [*node.args[1:], *node.kwargs]
        for child in rest:
            yield from _walk(child)
        return
    path = _path(node)
    if path is not None:
        yield path
        # A subscript that is not a constant (`data[lead.custom.key]`) reads variables too.
        for item in [node, *node.find_all(nodes.Getitem)]:
            if isinstance(item, nodes.Getitem) and not isinstance(item.arg, nodes.Const):
                yield from _walk(item.arg)
        return
    for child in node.iter_child_nodes():
        yield from _walk(child)


def _path(node: nodes.Node) -> tuple[str, ...] | None:
    """`lead.first_name`, `data['company']` as a path; None for anything else."""
    if isinstance(node, nodes.Name) and node.ctx == "load":
        return (node.name,)
    if isinstance(node, nodes.Getattr):
        base = _path(node.node)
        return (*base, node.attr) if base is not None else None
    if isinstance(node, nodes.Getitem):
        base = _path(node.node)
        if base is None:
            return None
        if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            return (*base, node.arg.value)
        return base
    return None


def _get_call_path(call: nodes.Call) -> tuple[str, ...] | None:
    """`data.get('company')` reads `data.company`."""
    method = call.node
    if not (isinstance(method, nodes.Getattr) and method.attr == "get" and call.args):
        return None
    key = call.args[0]
    base = _path(method.node)
    if base is None or not isinstance(key, nodes.Const) or not isinstance(key.value, str):
        return None
    return (*base, key.value)


def unknown_variables(source: str, variables: Variables) -> list[str]:
    """A sentence for each unknown variable `source` reads, each once, in order."""
    problems: list[str] = []
    for path in variable_paths(source):
        problem = variables.problem(path)
        if problem and problem not in problems:
            problems.append(problem)
    return problems


def data_points_read(source: str) -> set[str]:
    """The data point names a template reads (`data.company`, `data['company']`)."""
    return {path[1] for path in variable_paths(source) if path[0] == "data" and len(path) > 1}


def reads_journey_url(source: str) -> bool:
    """Whether the template writes the journey link itself."""
    return any(path[0] == "journey_url" for path in variable_paths(source))
