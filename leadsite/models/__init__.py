"""The data model: SQLAlchemy 2.0 typed models, one module per aggregate."""

from leadsite.models.data_point import DataPoint, DataPointType
from leadsite.models.funnel import (
    Activity,
    ActivityKind,
    Funnel,
    FunnelStatus,
    Identifier,
    OnDuplicate,
    Origin,
    OriginKind,
    Stage,
)
from leadsite.models.ingestion import IngestionEntry, IngestOutcome
from leadsite.models.journey import Journey, JourneyData, JourneyStatus, JourneyStep, StepStatus
from leadsite.models.lead import UTM_FIELDS, Lead
from leadsite.models.outbox import (
    Channel,
    DeliveryAttempt,
    Event,
    IdempotencyRecord,
    MessageStatus,
    OutboxMessage,
)
from leadsite.models.types import utcnow
from leadsite.models.webhook import WebhookEndpoint
from leadsite.models.workspace import ApiKey, Membership, Role, User, Workspace

__all__ = [
    "UTM_FIELDS",
    "Activity",
    "ActivityKind",
    "ApiKey",
    "Channel",
    "DataPoint",
    "DataPointType",
    "DeliveryAttempt",
    "Event",
    "Funnel",
    "FunnelStatus",
    "IdempotencyRecord",
    "Identifier",
    "IngestOutcome",
    "IngestionEntry",
    "Journey",
    "JourneyData",
    "JourneyStatus",
    "JourneyStep",
    "Lead",
    "Membership",
    "MessageStatus",
    "OnDuplicate",
    "Origin",
    "OriginKind",
    "OutboxMessage",
    "Role",
    "Stage",
    "StepStatus",
    "User",
    "WebhookEndpoint",
    "Workspace",
    "utcnow",
]
