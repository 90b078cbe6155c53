"""Where a data point is used: forms, conditions, decisions, activities and email templates.

A data point in use cannot be deleted (the required field would vanish from the live form, the
condition would silently never match); it can be archived. Uses are found by reading what
funnels and origins store, so a kind of activity added later is covered when its config names
data points the usual way: a key ending in `data_point` (one name), `data_points` (a list of
names) or `condition` (a condition), or templates in `subject` and `body`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import selectinload

from leadsite.extensions import db
from leadsite.journeys.template_check import data_points_read
from leadsite.models import DataPoint, Funnel, Origin, Stage

TEMPLATE_KEYS = ("subject", "body")


@dataclass(frozen=True)
class Use:
    """One place that reads the data point, and what to open to change it."""

    kind: str  # form, mapping, condition, decision, activity, template
    where: str  # a sentence naming the place
    funnel_id: str
    origin_id: str | None = None
    stage_id: str | None = None
    activity_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "where": self.where,
            "funnel_id": self.funnel_id,
            "origin_id": self.origin_id,
            "stage_id": self.stage_id,
            "activity_id": self.activity_id,
        }


def condition_fields(condition: Any) -> Iterator[str]:
    """Every `field` a condition's rules (nested groups too) look at."""
    if not isinstance(condition, dict):
        return
    for rule in condition.get("rules") or []:
        if isinstance(rule, dict) and "rules" in rule:
            yield from condition_fields(rule)
        elif isinstance(rule, dict) and isinstance(rule.get("field"), str):
            yield rule["field"]


def condition_data_points(condition: Any) -> set[str]:
    """The data point names a condition reads."""
    return {f[5:] for f in condition_fields(condition) if f.startswith("data.")}


def config_data_points(config: Any) -> set[str]:
    """The data point names an activity's config reads (its keys and its templates)."""
    if not isinstance(config, dict):
        return set()
    names: set[str] = set()
    for key, value in config.items():
        if key.endswith("data_point") and isinstance(value, str):
            names.add(value)
        elif key.endswith("data_points") and isinstance(value, list):
            names.update(v for v in value if isinstance(v, str))
        elif key.endswith("condition"):
            names |= condition_data_points(value)
        elif key in TEMPLATE_KEYS and isinstance(value, str):
            names |= data_points_read(value)
    return names


def origin_data_points(origin: Origin) -> set[str]:
    """The data point names an origin's form and mapping read."""
    fields = origin.form_fields if isinstance(origin.form_fields, list) else []
    names = {f["data_point"] for f in fields if isinstance(f, dict) and f.get("data_point")}
    mapping = origin.mapping if isinstance(origin.mapping, dict) else {}
    return names | {target[5:] for target in mapping if target.startswith("data.")}


def _condition_reads(condition: Any, name: str) -> bool:
    return f"data.{name}" in condition_fields(condition)


def config_reads(config: dict[str, Any], name: str) -> str | None:
    """How an activity's config uses the data point `name` ("asks for it", ...), or None."""
    for key, value in config.items():
        if key.endswith("data_point") and value == name:
            return f"names it as `{key}`"
        if key.endswith("data_points") and isinstance(value, list) and name in value:
            return f"lists it in `{key}`"
        if key.endswith("condition") and _condition_reads(value, name):
            return "waits on it in its condition"
    return None


def template_reads(config: dict[str, Any], name: str) -> bool:
    return any(
        isinstance(config.get(key), str) and name in data_points_read(config[key])
        for key in TEMPLATE_KEYS
    )


def _stage_uses(funnel: Funnel, stage: Stage, name: str) -> Iterator[Use]:
    place = f"stage “{stage.name}” of funnel “{funnel.name}”"
    if _condition_reads(stage.condition, name):
        yield Use("condition", f"The condition of {place}", funnel.id, stage_id=stage.id)
    for index, branch in enumerate(stage.decisions or []):
        if isinstance(branch, dict) and _condition_reads(branch.get("condition"), name):
            where = f"Branch {index + 1} of the decisions after {place}"
            yield Use("decision", where, funnel.id, stage_id=stage.id)
    for activity in stage.activities:
        config = activity.config if isinstance(activity.config, dict) else {}
        ids = {"stage_id": stage.id, "activity_id": activity.id}
        how = config_reads(config, name)
        if how:
            where = f"Activity “{activity.title}” in {place} {how}"
            yield Use("activity", where, funnel.id, **ids)
        if template_reads(config, name):
            where = f"The email template of activity “{activity.title}” in {place}"
            yield Use("template", where, funnel.id, **ids)


def _origin_uses(origin: Origin, name: str) -> Iterator[Use]:
    place = f"origin “{origin.name}” of funnel “{origin.funnel.name}”"
    fields = origin.form_fields if isinstance(origin.form_fields, list) else []
    if any(isinstance(f, dict) and f.get("data_point") == name for f in fields):
        yield Use("form", f"The form of {place}", origin.funnel_id, origin_id=origin.id)
    mapping = origin.mapping if isinstance(origin.mapping, dict) else {}
    if f"data.{name}" in mapping:
        yield Use("mapping", f"The field mapping of {place}", origin.funnel_id, origin_id=origin.id)


def data_point_uses(point: DataPoint) -> list[Use]:
    """Every place in the data point's workspace that reads it (three queries)."""
    funnels = db.session.scalars(
        db.select(Funnel)
        .filter_by(workspace_id=point.workspace_id)
        .order_by(Funnel.name, Funnel.id)
        .options(
            selectinload(Funnel.stages).selectinload(Stage.activities),
            selectinload(Funnel.origins),
        )
    )
    uses: list[Use] = []
    for funnel in funnels:
        for origin in funnel.origins:
            uses.extend(_origin_uses(origin, point.name))
        for stage in funnel.stages:
            uses.extend(_stage_uses(funnel, stage, point.name))
    return uses
