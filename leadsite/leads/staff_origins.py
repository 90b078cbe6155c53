"""The back-office's own doors into a funnel ("New lead" and CSV import), made on first use."""

from __future__ import annotations

from leadsite.database import hold_named_locks
from leadsite.extensions import db
from leadsite.funnels import add_origin
from leadsite.models import Funnel, FunnelStatus, Origin, OriginKind
from leadsite.registration import FunnelClosed, check_open

ORIGIN_NAMES = {OriginKind.BACKOFFICE: "Back-office", OriginKind.IMPORT: "CSV import"}


def staff_origin(funnel: Funnel, kind: OriginKind) -> Origin:
    """The funnel's oldest origin of `kind` (back-office or import), added if it has none.

    An origin that staff switched off is returned as it is: the pipeline refuses it, and the
    caller says so, rather than quietly opening another door.

    The first use is serialized on the funnel and kind, and looks again once it has its turn:
    two staff adding a funnel's first lead at once (or starting its first import) each found
    none and each added one, two "Back-office" doors where the funnel's leads were split.
    A named lock rather than a unique index: there is no row to lock yet, and an index would
    refuse the databases where the race already left two.
    """
    origin = _oldest(funnel, kind)
    if origin is not None:
        return origin
    hold_named_locks([f"staff-origin:{funnel.id}:{kind.value}"])
    return _oldest(funnel, kind) or add_origin(funnel, kind, ORIGIN_NAMES[kind])


def _oldest(funnel: Funnel, kind: OriginKind) -> Origin | None:
    return db.session.scalar(
        db.select(Origin)
        .filter_by(funnel_id=funnel.id, workspace_id=funnel.workspace_id, kind=kind)
        .order_by(Origin.created_at, Origin.id)
        .limit(1)
    )


def open_funnels(workspace_id: str) -> list[Funnel]:
    """The workspace's funnels that take registrations now, by name."""
    funnels = db.session.scalars(
        db.select(Funnel)
        .filter_by(workspace_id=workspace_id, status=FunnelStatus.ACTIVE)
        .order_by(Funnel.name)
    )
    result = []
    for funnel in funnels:
        try:
            check_open(funnel)
        except FunnelClosed:
            continue
        result.append(funnel)
    return result
