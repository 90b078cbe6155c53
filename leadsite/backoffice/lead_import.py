"""CSV import in the back-office: upload, map the columns, preview, then follow the worker's
run (a progress bar that polls), cancel it, and read the report."""

from __future__ import annotations

from flask import abort, g, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from leadsite.backoffice import bp
from leadsite.backoffice.downloads import csv_download
from leadsite.data_points import workspace_data_points
from leadsite.errors import error_page, handle_http_exception
from leadsite.extensions import csrf, db
from leadsite.htmx import is_htmx, render_page_or_block
from leadsite.leads.imports import job as lead_import_job
from leadsite.leads.imports import rows as lead_import_run
from leadsite.leads.imports import upload as files
from leadsite.leads.imports.upload import LEAD_TARGETS, TARGET_LABELS, BadFile, NoSuchImport
from leadsite.leads.staff_origins import open_funnels, staff_origin
from leadsite.models import DataPoint, Funnel, LeadImport, OriginKind
from leadsite.security import refuse_nul_in_form, refuses_nul_itself

UPLOAD, MAPPING, RUN = (
    f"backoffice/leads/{name}.html" for name in ("import", "import_map", "import_run")
)
SAMPLES = 3
TOO_LARGE = "The file is too large: at most 200 MB can be imported at once. Split it into parts."
# The multipart envelope around the file: its headers and the CSRF field.
ENVELOPE_BYTES = 64 * 1024


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


def _job_or_404(token: str) -> LeadImport:
    try:
        return files.load(token, g.workspace.id)
    except NoSuchImport:
        abort(404)


@bp.route("/leads/import", methods=["GET", "POST"])
@csrf.exempt  # checked by the form, once the request may be as large as a file
@refuses_nul_itself  # likewise
def lead_import() -> Response:
    """Upload a CSV file (at most 200 MB and 2,000,000 rows), then map its columns. The file is
    read as a stream (werkzeug keeps a large upload on disk) into the database in chunks."""
    request.max_content_length = files.MAX_BYTES + ENVELOPE_BYTES
    refuse_nul_in_form()
    form = ImportUploadForm()
    if form.validate_on_submit():
        try:
            job = files.save_upload(
                g.workspace.id,
                current_user.id,
                form.file.data.filename or "",
                form.file.data.stream,
            )
        except BadFile as error:
            form.file.errors = [str(error)]
        else:
            form.file.data.close()  # a large upload is a temporary file: gone now
            return redirect(url_for("backoffice.lead_import_map", token=job.id), code=303)
    status = 422 if request.method == "POST" else 200
    return render_page_or_block(UPLOAD, "import_upload", status=status, form=form)


def _targets(points: list[DataPoint]) -> dict[str, str]:
    """Every target a column may have, with its label."""
    return {**TARGET_LABELS, **{f"data:{p.name}": p.label for p in points}}


def _submitted(job: LeadImport, points: list[DataPoint]) -> tuple[list[str], Funnel | None]:
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
    job: LeadImport,
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
    """Start the import with this mapping: a worker registers every row through the funnel's
    import origin (made now if it has none). 422 with the mapping when it cannot start."""
    job = _job_or_404(token)
    if not job.started:
        mapping, funnel = _submitted(job, workspace_data_points(g.workspace.id))
        problems = mapping_problems(mapping, funnel)
        if problems or funnel is None:
            return _mapping_page(job, mapping, funnel, problems=problems, status=422)
        staff_origin(funnel, OriginKind.IMPORT)
        db.session.commit()
        files.set_mapping(job, mapping, funnel.id)
    return _to_report(job)


def _to_report(job: LeadImport) -> Response:
    """The progress block, with the report's URL in the address bar (htmx), or a redirect."""
    report_url = url_for("backoffice.lead_import_report", token=job.id)
    if not is_htmx():
        return redirect(report_url, code=303)
    response = _run_page(job)
    response.headers["HX-Push-Url"] = report_url
    return response


def _run_page(job: LeadImport, status: int = 200) -> Response:
    report = lead_import_run.report(job)
    return render_page_or_block(RUN, "import_run", status=status, job=job, report=report)


@bp.get("/leads/import/<token>/report")
def lead_import_report(token: str) -> Response:
    """The import's progress while a worker runs it (htmx polls this block), then how it went:
    created, updated and rejected rows, with each rejection's reason."""
    job = _job_or_404(token)
    if not job.started:
        return redirect(url_for("backoffice.lead_import_map", token=token))
    return _run_page(job)


@bp.post("/leads/import/<token>/cancel")
def lead_import_cancel(token: str) -> Response:
    """Stop the import after the chunk under way; the rows registered so far stay."""
    job = _job_or_404(token)
    if job.started and not job.ended:
        db.session.commit()  # the request's write lock: the cancel takes its own
        lead_import_job.cancel(job)
    return _to_report(job)


@bp.get("/leads/import/<token>/rejected.csv")
def lead_import_rejected(token: str) -> Response:
    """The rejected rows as they were, with a column saying why: fix them, import them again."""
    job = _job_or_404(token)
    return csv_download(lead_import_run.rejected_csv(job), "rejected-rows")
