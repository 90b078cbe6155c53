"""What a batch's inputs look up in their workspace, read once a batch instead of once an input:
the lead statuses a `status` may name, and the data points that journey data names.

An import's rows carry the same columns: with a status column or `data:` columns every row
read the same statuses and data points again (a query each, per row). `clean` asks a
`Catalogue`; `register_many` keeps one for the batch, a registration on its own has its own
(the same queries it ran before). It reads the session as the inputs are validated, before
the batch's write transaction, as the funnel plan is read.
"""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.leads import statuses as lead_statuses
from leadsite.models import DataPoint


class Catalogue:
    def __init__(self, workspace_id: str) -> None:
        self.workspace_id = workspace_id
        self._status_keys: list[str] | None = None
        # A name as queried (lower-cased by Python) -> the points whose name the database
        # lower-cases to it: what `lower(name) IN (...)` returns for that name.
        self._points: dict[str, list[DataPoint]] = {}

    def status_keys(self) -> list[str]:
        """`statuses.keys` of the catalogue's workspace, read once."""
        if self._status_keys is None:
            self._status_keys = lead_statuses.keys(self.workspace_id)
        return self._status_keys

    def data_points(self, names: set[str]) -> dict[str, DataPoint]:
        """The workspace's data points named (any case), by lower-cased name: the names not
        asked before read in one query."""
        wanted = {name.lower() for name in names}
        missing = [name for name in wanted if name not in self._points]
        if missing:
            for name in missing:
                self._points[name] = []
            lowered = db.func.lower(DataPoint.name)
            rows = db.session.execute(
                db.select(DataPoint, lowered).filter(
                    DataPoint.workspace_id == self.workspace_id, lowered.in_(missing)
                )
            )
            for point, name in rows:
                self._points[name].append(point)
        return {point.name.lower(): point for name in wanted for point in self._points[name]}
