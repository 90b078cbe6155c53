"""Staff sign-in and what leads to it: sign-in and sign-out, server-side sessions, invitations
and password resets; the pages outside the back-office's `/p`."""

from flask import Blueprint

from leadsite.security import refuse_nul_before_the_view

bp = Blueprint("auth", __name__)
bp.before_request(refuse_nul_before_the_view)

from leadsite.auth import invitations, password_reset, sessions, sign_in  # noqa: E402, F401
from leadsite.auth.sign_in import BAD_CREDENTIALS  # noqa: E402, F401
