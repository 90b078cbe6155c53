"""`flask --app app leadsite import FILE --origin REF`: a CSV import from a shell, run in this
process with a progress bar; the same job the back-office queues for the worker."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from leadsite.data_points import workspace_data_points
from leadsite.extensions import db
from leadsite.leads.imports import upload as files
from leadsite.leads.imports.job import claim_one, run_import
from leadsite.models import Funnel, LeadImport, Origin


def _mapping(job: LeadImport, given: str | None, funnel: Funnel) -> list[str]:
    """The guessed mapping, with `Column=target` pairs (comma-separated) given over it."""
    mapping = files.guess_mapping(job.columns, workspace_data_points(job.workspace_id))
    targets = set(files.TARGET_LABELS)
    for pair in filter(None, (part.strip() for part in (given or "").split(","))):
        column, _, target = pair.partition("=")
        if column.strip() not in job.columns:
            raise click.BadParameter(f"no column named {column.strip()!r}", param_hint="--mapping")
        target = target.strip()
        if target and target not in targets and not target.startswith("data:"):
            raise click.BadParameter(f"no target named {target!r}", param_hint="--mapping")
        mapping[job.columns.index(column.strip())] = target
    if funnel.identifier not in mapping:
        raise click.UsageError(
            f"No column is imported as {funnel.identifier}, which the funnel identifies "
            f"leads by: add --mapping 'Your column={funnel.identifier}'."
        )
    return mapping


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--origin", "ref", required=True, help="The ref of the origin the rows come in by.")
@click.option("--mapping", help="Column=target pairs, comma-separated (targets as the form's).")
def import_command(file: Path, ref: str, mapping: str | None) -> None:
    """Import a CSV file's rows as leads through an origin, showing the progress."""
    origin = db.session.scalar(db.select(Origin).filter_by(ref=ref))
    funnel = db.session.get(Funnel, origin.funnel_id) if origin else None
    if origin is None or funnel is None:
        raise click.BadParameter(f"no origin with ref {ref!r}", param_hint="--origin")
    with file.open("rb") as stream:
        try:
            job = files.save_upload(origin.workspace_id, None, file.name, stream)
        except files.BadFile as error:
            raise click.ClickException(str(error)) from None
    try:
        chosen = _mapping(job, mapping, funnel)
    except click.ClickException:
        db.session.delete(job)
        db.session.commit()
        raise
    files.set_mapping(job, chosen, funnel.id, origin.id)
    token = claim_one(job.id)
    if token is None:
        raise click.ClickException("A worker took this import first; follow it in the back-office.")
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns) as progress:
        task = progress.add_task(file.name, total=job.row_count, counts="")

        def show(state: LeadImport) -> None:
            counts = (
                f"{state.created_count:,} created, {state.updated_count:,} updated, "
                f"{state.rejected_count:,} rejected"
            )
            progress.update(task, completed=state.rows_done, counts=counts)

        run_import(job.id, token, seconds=None, on_chunk=show)
    db.session.refresh(job)
    click.echo(
        f"Import {job.id} {job.status}: {job.created_count} created, {job.updated_count} updated, "
        f"{job.rejected_count} rejected."
    )
    if job.rejected_count:
        click.echo("The rejected rows and why: the import's report in the back-office.")
