"""CSV import in the back-office: upload, map the columns, preview, run in batches, report."""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from leadsite import lead_import as files
from leadsite import lead_import_run
from leadsite.backoffice import bp
from leadsite.backoffice.lead_export import csv_download
from leadsite.data_points import workspace_data_points
from leadsite.errors import error_page, handle_http_exception
from leadsite.extensions import db
from leadsite.htmx import is_htmx, render_page_or_block
from leadsite.lead_import import LEAD_TARGETS, TARGET_LABELS, BadFile, ImportJob, NoSuchImport
from leadsite.lead_origins import open_funnels, staff_origin
from leadsite.models import DataPoint, Funnel, OriginKind

UPLOAD, MAPPING, RUN = (
    f"backoffice/leads/{name}.html" for name in ("import", "import_map", "import_run")
)
SAMPLES = 3
TOO_LARGE = "The file is too large: at most 5 MB can be imported at once. Split it into parts."
BUSY = "This import is already running in another tab. Its report appears there when it is done."


class ImportUploadForm(FlaskForm):
    file = FileField(
        "CSV file",
        validators=[FileRequired("Choose a CSV file to upload.")],
        render_kw={"accept": ".csv,.txt,text/csv"},
    )


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> Response:
    """An upload beyond the app's request limit gets the importer's own words."""
    if request.endpoint == "backoffice.lead_import":
        return error_page(413, TOO_LARGE, title="Too large")
    return handle_http_exception(error)


def _job_or_404(token: str) -> ImportJob:
    try:
        return files.load(token, g.workspace.id)
    except NoSuchImport:
        abort(404)


@bp.route("/leads/import", methods=["GET", "POST"])
def lead_import() -> Response:
    """Upload a CSV file (at most 5 MB and 20,000 rows), then map its columns."""
    form = ImportUploadForm()
    if form.validate_on_submit():
        data = form.file.data.read(files.MAX_BYTES + 1)
        try:
            job = files.save_upload(
                g.workspace.id, current_user.id, form.file.data.filename or "", data
            )
        except BadFile as error:
            form.file.errors = [str(error)]
        else:
            return redirect(url_for("backoffice.lead_import_map", token=job.token), code=303)
    status = 422 if request.method == "POST" else 200
    return render_page_or_block(UPLOAD, "import_upload", status=status, form=form)


def _targets(points: list[DataPoint]) -> dict[str, str]:
    """Every target a column may have, with its label."""
    return {**TARGET_LABELS, **{f"data:{p.name}": p.label for p in points}}


def _submitted(job: ImportJob, points: list[DataPoint]) -> tuple[list[str], Funnel | None]:
    """The mapping and funnel chosen in the form; unknown values count as not chosen."""
    targets = _targets(points)
    mapping = [request.form.get(f"column-{index}", "") for index in range(len(job.columns))]
    mapping = [target if target in targets else "" for target in mapping]
    funnels = {funnel.id: funnel for funnel in open_funnels(g.workspace.id)}
    return mapping, funnels.get(request.form.get("funnel", ""))


def mapping_problems(mapping: list[str], funnel: Funnel | None) -> list[str]:
    """What stops the run: no funnel, its identifier not mapped, a field mapped twice."""
    if funnel is None:
        return ["Choose the funnel the leads enter."]
    problems = []
    if funnel.identifier not in mapping:
        label = TARGET_LABELS[funnel.identifier]
        problems.append(
            f"Map a column to {label}: the funnel “{funnel.name}” identifies leads by it."
        )
    for target in dict.fromkeys(mapping):
        if target and target != "custom" and mapping.count(target) > 1:
            problems.append(f"Two columns go to {TARGET_LABELS.get(target, target)}: keep one.")
    return problems


def _mapping_page(
    job: ImportJob,
    mapping: list[str],
    funnel: Funnel | None,
    block: str = "import_mapping",
    problems: list[str] | None = None,
    status: int = 200,
) -> Response:
    points = workspace_data_points(g.workspace.id)
    samples: list[list[str]] = [[] for _ in job.columns]
    for _, cells in files.rows(job, 0, SAMPLES):
        for index, cell in enumerate(cells):
            if cell.strip():
                samples[index].append(cell.strip()[:40])
    return render_page_or_block(
        MAPPING,
        block,
        status=status,
        job=job,
        mapping=mapping,
        funnel=funnel,
        funnels=open_funnels(g.workspace.id),
        points=points,
        lead_targets=LEAD_TARGETS,
        labels=_targets(points),
        samples=samples,
        problems=problems or [],
        preview=lead_import_run.preview(job, mapping, funnel, g.workspace),
    )


@bp.get("/leads/import/<token>")
def lead_import_map(token: str) -> Response:
    """Map the file's columns to lead fields and data points (guessed from their names) and
    preview the first rows as they would be imported."""
    job = _job_or_404(token)
    if job.started:
        return redirect(url_for("backoffice.lead_import_report", token=token))
    funnels = open_funnels(g.workspace.id)
    mapping = files.guess_mapping(job.columns, workspace_data_points(g.workspace.id))
    return _mapping_page(job, mapping, funnels[0] if funnels else None)


@bp.post("/leads/import/<token>/preview")
def lead_import_preview(token: str) -> Response:
    """The preview for the mapping as it stands (htmx asks on every change)."""
    job = _job_or_404(token)
    mapping, funnel = _submitted(job, workspace_data_points(g.workspace.id))
    return _mapping_page(job, mapping, funnel, block="import_preview")


@bp.post("/leads/import/<token>/run")
def lead_import_run_start(token: str) -> Response:
    """Start the import with this mapping: every row goes through the pipeline via the funnel's
    import origin (made on first use). 422 with the mapping when it cannot start."""
    job = _job_or_404(token)
    if not job.started:
        mapping, funnel = _submitted(job, workspace_data_points(g.workspace.id))
        problems = mapping_problems(mapping, funnel)
        if problems or funnel is None:
            return _mapping_page(job, mapping, funnel, problems=problems, status=422)
        staff_origin(funnel, OriginKind.IMPORT)
        db.session.commit()
        job.mapping, job.funnel_id = mapping, funnel.id
        files.save(job)
    return _run(job)


@bp.post("/leads/import/<token>/continue")
def lead_import_continue(token: str) -> Response:
    """Import the next rows of a started import (htmx asks again until it is done)."""
    job = _job_or_404(token)
    if not job.started:
        return redirect(url_for("backoffice.lead_import_map", token=token), code=303)
    return _run(job)


def _run(job: ImportJob) -> Response:
    if job.finished_at is None:
        funnel = db.session.get(Funnel, job.funnel_id)
        if funnel is None or funnel.workspace_id != g.workspace.id:
            return error_page(409, "The funnel of this import was deleted.", title="Stopped")
        origin = staff_origin(funnel, OriginKind.IMPORT)
        db.session.commit()
        try:
            done = lead_import_run.run_batch(job, origin, current_user.id)
        except lead_import_run.Busy:
            return error_page(409, BUSY, title="Already running")
        if job.finished_at is None:
            return render_page_or_block(RUN, "import_run", job=job, done=done, report=None)
    report = lead_import_run.report(job)
    flash(
        f"Import finished: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.rejected)} rejected.",
        "success" if not report.rejected else "warning",
    )
    report_url = url_for("backoffice.lead_import_report", token=job.token)
    if not is_htmx():
        return redirect(report_url, code=303)
    response = render_page_or_block(RUN, "import_run", job=job, done=report.done, report=report)
    response.headers["HX-Push-Url"] = report_url
    return response


@bp.get("/leads/import/<token>/report")
def lead_import_report(token: str) -> Response:
    """How the import went: created, updated and rejected rows, with each rejection's reason
    (or, while it runs, how far it got)."""
    job = _job_or_404(token)
    if not job.started:
        return redirect(url_for("backoffice.lead_import_map", token=token))
    report = lead_import_run.report(job)
    finished = report if job.finished_at else None
    return render_page_or_block(RUN, "import_run", job=job, done=report.done, report=finished)


@bp.get("/leads/import/<token>/rejected.csv")
def lead_import_rejected(token: str) -> Response:
    """The rejected rows as they were, with a column saying why: fix them, import them again."""
    job = _job_or_404(token)
    return csv_download(lead_import_run.rejected_csv(job), "rejected-rows")
