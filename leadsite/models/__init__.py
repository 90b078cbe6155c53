"""The data model: SQLAlchemy 2.0 typed models, one module per aggregate."""

from leadsite.models.access import Invitation, UserSession
from leadsite.models.analytics import FormCount, FormEvent
from leadsite.models.data_point import DataPoint, DataPointType
from leadsite.models.form_token import UsedFormToken
from leadsite.models.front_office import JourneyFile, Signature, StakeholderLink
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
from leadsite.models.journey import (
    Journey,
    JourneyData,
    JourneySession,
    JourneyStatus,
    JourneyStep,
    LeadSignIn,
    StepStatus,
)
from leadsite.models.journey_rollup import JourneyCount, JourneyDuration
from leadsite.models.lead import UTM_FIELDS, Lead
from leadsite.models.lead_import import (
    ImportStatus,
    LeadImport,
    LeadImportChunk,
    LeadImportRejection,
)
from leadsite.models.lead_views import EmbedViolation, LeadStatus, SavedView
from leadsite.models.outbox import (
    Channel,
    DeliveryAttempt,
    Event,
    IdempotencyRecord,
    MessageStatus,
    OutboxMessage,
)
from leadsite.models.types import in_zone, utcnow
from leadsite.models.webhook import WebhookEndpoint
from leadsite.models.workspace import ALL_SCOPES, ApiKey, Membership, Role, Scope, User, Workspace

__all__ = [
    "ALL_SCOPES",
    "UTM_FIELDS",
    "Activity",
    "ActivityKind",
    "ApiKey",
    "Channel",
    "DataPoint",
    "DataPointType",
    "DeliveryAttempt",
    "EmbedViolation",
    "Event",
    "FormCount",
    "FormEvent",
    "Funnel",
    "FunnelStatus",
    "IdempotencyRecord",
    "Identifier",
    "ImportStatus",
    "IngestOutcome",
    "IngestionEntry",
    "Invitation",
    "Journey",
    "JourneyCount",
    "JourneyData",
    "JourneyDuration",
    "JourneyFile",
    "JourneySession",
    "JourneyStatus",
    "JourneyStep",
    "Lead",
    "LeadImport",
    "LeadImportChunk",
    "LeadImportRejection",
    "LeadSignIn",
    "LeadStatus",
    "Membership",
    "MessageStatus",
    "OnDuplicate",
    "Origin",
    "OriginKind",
    "OutboxMessage",
    "Role",
    "SavedView",
    "Scope",
    "Signature",
    "Stage",
    "StakeholderLink",
    "StepStatus",
    "UsedFormToken",
    "User",
    "UserSession",
    "WebhookEndpoint",
    "Workspace",
    "in_zone",
    "utcnow",
]
