"""The CSV imports' side of erasure: the rows not run yet and the refused rows that name an
erased lead are emptied, in the erasure's transaction (imports live in the database)."""

from __future__ import annotations

import csv
import io

from sqlalchemy import update

from leadsite.erasure.records import Traces
from leadsite.extensions import db
from leadsite.models import LeadImport, LeadImportChunk, LeadImportRejection


def erase_from_imports(traces: Traces) -> None:
    """Empty the cells of every import row of the lead's workspace that names the lead; each
    row keeps its number, so a run's position holds. Flushes nothing itself."""
    imports = db.select(LeadImport.id).where(LeadImport.workspace_id == traces.workspace_id)
    chunks = db.session.execute(
        db.select(LeadImportChunk.import_id, LeadImportChunk.first_row, LeadImportChunk.data).where(
            LeadImportChunk.import_id.in_(imports)
        )
    )
    for import_id, first_row, data in chunks:
        records = list(csv.reader(io.StringIO(data, newline="")))
        changed = False
        for record in records:
            if traces.named_in(record[1:]):
                record[1:] = [""] * (len(record) - 1)
                changed = True
        if changed:
            buffer = io.StringIO()
            csv.writer(buffer).writerows(records)
            db.session.execute(
                update(LeadImportChunk)
                .filter_by(import_id=import_id, first_row=first_row)
                .values(data=buffer.getvalue())
            )
    rejections = db.session.scalars(
        db.select(LeadImportRejection).where(LeadImportRejection.import_id.in_(imports))
    )
    for item in rejections:
        if traces.named_in([item.label, *item.cells]):
            item.label = ""
            item.cells = [""] * len(item.cells)
