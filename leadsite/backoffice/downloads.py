"""Streamed CSV downloads, and how one that cannot finish ends: as a failed transfer.

A download sends its first bytes before its last row is read, so the status (200) has left
when something goes wrong midway: the member loses their access, the database goes away or
fails. Ending the body normally then hands curl, a browser or a script a file that looks
whole. HTTP's one way to say "this is not all" once the headers are sent is to close the
connection before the chunked body's terminating chunk: curl exits 18 ("transfer closed with
outstanding read data remaining"), browsers mark the download failed, http.client raises
`IncompleteRead`. A last CSV line says why, for whoever opens what arrived.

The server closes it. Gunicorn (sync and gthread workers) and werkzeug's server close the
connection, without the terminating chunk, when the response's iterator raises after the
headers left; for most errors they log a traceback ("Error handling request"), for a
connection reset (`ECONNRESET`, which a client that left causes) only a debug line.
`DownloadCut` is such a reset, raised by the app: the cut is logged here once (a warning, or
the error's traceback when it was one), and not a second time by the server.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator

from flask import Response, g, request, stream_with_context
from flask_login import current_user

from leadsite.access.members import a_member_now
from leadsite.models import utcnow
from leadsite.outages import forget_the_transaction, is_outage

log = logging.getLogger(__name__)


class DownloadCut(ConnectionResetError):
    """Raised out of a streamed response to make the server close its connection mid-body
    (see the module's docstring); the reason is logged already."""

    def __init__(self, reason: str) -> None:
        super().__init__(errno.ECONNRESET, f"download cut short: {reason}")


class AccessLost(Exception):
    """The member downloading lost their access to the workspace."""


def while_a_member(chunks: Iterator[str]) -> Iterator[str]:
    """A download's chunks while the signed-in member keeps their access: checked again before
    each chunk after the first (64 KB or more of rows), as a deactivation stops everything else
    they do at once. A download under way when it lands ends there (`AccessLost`), rather than
    sending the rest of the workspace's leads to someone who lost access."""
    user_id, workspace_id = current_user.id, g.workspace.id
    for number, chunk in enumerate(chunks):
        if number and not a_member_now(user_id, workspace_id):
            raise AccessLost(user_id)
        yield chunk


def cut_when_it_fails(chunks: Iterator[str]) -> Iterator[str]:
    """The chunks; if reading them fails, a last line saying so, then `DownloadCut`."""
    workspace = g.workspace.name.replace('"', '""')  # inside the CSV cell's quotes
    where = f"{request.path} (user {current_user.id}, workspace {g.workspace.id})"
    try:
        yield from chunks
        return
    except AccessLost:
        log.warning("download cut short, the member lost their access: %s", where)
        reason = f"you no longer have access to {workspace}"
    except Exception as error:
        if is_outage(error):
            forget_the_transaction(error)  # logs the outage in a line
            log.warning("download cut short by the database outage: %s", where)
            reason = "the service is briefly unavailable; download it again in a few seconds"
        else:
            log.exception("download cut short by an error: %s", where)
            reason = "an error on our side (logged); download it again"
    yield f'"The export stopped here: {reason}."\r\n'
    raise DownloadCut(reason)


def csv_download(chunks: Iterator[str], name: str = "leads") -> Response:
    """A streamed CSV attachment: the first bytes leave before the last row is read, and no
    more once the member lost their access (`while_a_member`); one that cannot finish fails
    as a transfer (`cut_when_it_fails`)."""
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    lines = cut_when_it_fails(while_a_member(chunks))
    response = Response(stream_with_context(line.encode() for line in lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    response.headers["Cache-Control"] = "no-store"  # personal data: keep it out of caches
    response.headers["X-Accel-Buffering"] = "no"  # nginx passes it on as it comes
    return response
