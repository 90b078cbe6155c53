"""The REST API, `/api/v1`: bearer-key auth, JSON envelopes, OpenAPI from the same schemas."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from leadsite.api import (  # noqa: E402, F401
    activities,
    analytics,
    auth,
    cors,
    data_points,
    deliveries,
    dialects,
    errors,
    funnels,
    journeys,
    lead_records,
    leads,
    leads_batch,
    openapi,
    origins,
    webhooks,
)
from leadsite.api.dialects import chatbot, kohomai  # noqa: E402, F401
