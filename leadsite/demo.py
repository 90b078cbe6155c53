"""The demo workspace `make run` starts with: a funnel, an origin of each kind, sample leads."""

from __future__ import annotations

import json
import random
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from leadsite import accounts, funnels
from leadsite.extensions import db
from leadsite.journeys import start_journey
from leadsite.journeys.engine import enter_first_stage
from leadsite.leads.statuses import DEFAULT_STATUSES
from leadsite.models import (
    ActivityKind,
    ApiKey,
    DataPoint,
    DataPointType,
    Event,
    Funnel,
    FunnelStatus,
    JourneyData,
    Lead,
    Origin,
    OriginKind,
    Role,
    User,
    Workspace,
    utcnow,
)
from leadsite.passwords import verify_password

DEMO_SLUG = "demo"
DEMO_EMAIL = "admin@demo.example"
DEMO_KEY_NAME = "Demo key"
DEMO_PUBLISHABLE_KEY_NAME = "Demo web page"
LOCAL_DOMAINS = ["http://localhost:*", "http://127.0.0.1:*"]

FIRST_NAMES = [
    "Ada",
    "Ben",
    "Chloé",
    "Dev",
    "Emma",
    "Farid",
    "Grace",
    "Hiro",
    "Inès",
    "Jonas",
    "Kofi",
    "Lena",
    "Mateo",
    "Nora",
    "Olu",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
]
LAST_NAMES = [
    "Lovelace",
    "Okafor",
    "Martin",
    "Patel",
    "Schmidt",
    "Haddad",
    "Hopper",
    "Tanaka",
    "Dubois",
    "Berg",
    "Mensah",
    "Novak",
    "García",
    "Larsen",
    "Adeyemi",
    "Sharma",
    "Byrne",
    "Rossi",
    "Lindqvist",
    "Kaur",
    "Farouk",
    "Ivanova",
    "Zhang",
    "López",
    "Demir",
]
# The workspace's own statuses (seeded with the workspace), the first ("new") three times as often.
STATUSES = [DEFAULT_STATUSES[0][0]] * 2 + [key for key, *_ in DEFAULT_STATUSES]
TAGS = ["newsletter", "webinar", "vip", "partner", "trial"]
SOURCES = [("google", "cpc"), ("newsletter", "email"), ("linkedin", "social"), (None, None)]
PLANS = ["Starter", "Growth", "Enterprise"]


@dataclass
class DemoWorkspace:
    base_url: str
    email: str
    password: str
    api_key: str
    publishable_key: str
    workspace_id: str
    funnel_id: str
    origins: dict[str, str] = field(default_factory=dict)
    # Where the password and API key are kept between runs, and whether this run made them.
    credentials_file: str = ""
    new_credentials: bool = False

    def as_json(self) -> dict[str, object]:
        return {
            "base_url": self.base_url,
            "email": self.email,
            "password": self.password,
            "api_key": self.api_key,
            "publishable_key": self.publishable_key,
            "workspace_id": self.workspace_id,
            "funnel_id": self.funnel_id,
            "origins": self.origins,
        }


def ensure_demo_workspace(base_url: str, credentials: Path, reset: bool = False) -> DemoWorkspace:
    """Create the demo workspace once, with a password and an API key kept in `credentials`.

    Later runs keep them, so that sessions and saved credentials stay good across restarts:
    only `reset`, or a kept pair that no longer works (the file or the database was replaced),
    sets a new password and revokes the old demo keys for a new one. The publishable key of
    the demo's API origin (for web pages on localhost) is made once and kept: it is no secret.
    """
    workspace, created = accounts.get_or_create_workspace("Demo workspace", DEMO_SLUG)
    if created:
        _populate(workspace)
    kept = None if created or reset else _kept_credentials(credentials, workspace)
    if kept is None:
        password, api_key = _new_credentials(workspace)
        credentials.parent.mkdir(parents=True, exist_ok=True)
        credentials.write_text(json.dumps({"password": password, "api_key": api_key}))
        credentials.chmod(0o600)  # a password in clear: readable by its owner only
    else:
        password, api_key = kept
    user = db.session.scalar(db.select(User).filter_by(email=DEMO_EMAIL))
    assert user is not None  # made or checked above
    funnel = db.session.scalar(
        db.select(Funnel)
        .filter_by(workspace_id=workspace.id, name="Demo onboarding")
        .order_by(Funnel.created_at)
    )
    by_kind = {
        origin.kind: origin
        for origin in db.session.scalars(
            db.select(Origin).filter_by(funnel_id=funnel.id).order_by(Origin.created_at.desc())
        )
    }
    origins = {kind: origin.ref for kind, origin in by_kind.items()}
    if workspace.default_origin_id is None:
        # Calls naming no origin (the chatbot and vcita dialects) go to the demo's API origin.
        workspace.default_origin_id = by_kind[OriginKind.API].id
    publishable = _publishable_key(workspace, by_kind[OriginKind.API], user)
    db.session.commit()
    return DemoWorkspace(
        base_url=base_url,
        email=DEMO_EMAIL,
        password=password,
        api_key=api_key,
        publishable_key=publishable,
        workspace_id=workspace.id,
        funnel_id=funnel.id,
        origins={kind: origins[kind] for kind in ("api", "page", "embed", "backoffice")},
        credentials_file=str(credentials),
        new_credentials=kept is None,
    )


def _kept_credentials(credentials: Path, workspace: Workspace) -> tuple[str, str] | None:
    """The password and API key kept in `credentials`, if both still work in this database."""
    try:
        kept = json.loads(credentials.read_text())
        password, api_key = str(kept["password"]), str(kept["api_key"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    user = db.session.scalar(db.select(User).filter_by(email=DEMO_EMAIL))
    if user is None or not user.active or not verify_password(user.password_hash, password):
        return None
    if user.membership_in(workspace.id) is None:
        return None
    key = db.session.scalar(
        db.select(ApiKey).filter_by(
            workspace_id=workspace.id,
            name=DEMO_KEY_NAME,
            secret_hash=accounts.hash_api_key(api_key),
            revoked_at=None,
        )
    )
    return (password, api_key) if key is not None else None


def _new_credentials(workspace: Workspace) -> tuple[str, str]:
    """A new password for the demo administrator and a new demo API key; older ones revoked."""
    password = secrets.token_urlsafe(12)
    user = accounts.set_user(DEMO_EMAIL, password, name="Demo Administrator")
    accounts.add_member(user, workspace, Role.ADMINISTRATOR)
    for old_key in db.session.scalars(
        db.select(ApiKey).filter_by(workspace_id=workspace.id, name=DEMO_KEY_NAME)
    ):
        accounts.revoke_api_key(old_key)
    _, api_key = accounts.create_api_key(workspace, DEMO_KEY_NAME, created_by=user)
    return password, api_key


def _publishable_key(workspace: Workspace, origin: Origin, user: User) -> str:
    """The demo's publishable key for its API origin: the one made before, else a new one."""
    key = db.session.scalar(
        db.select(ApiKey).filter_by(
            workspace_id=workspace.id,
            name=DEMO_PUBLISHABLE_KEY_NAME,
            publishable=True,
            revoked_at=None,
        )
    )
    if key is None or key.token is None or origin.id not in (key.origin_ids or []):
        key = accounts.create_publishable_key(
            workspace, DEMO_PUBLISHABLE_KEY_NAME, [origin.id], created_by=user
        )
    return key.token or ""


def _populate(workspace: Workspace) -> None:
    workspace.sender_email = "hello@demo.example"
    company = DataPoint(
        workspace_id=workspace.id, name="company", label="Company", type=DataPointType.TEXT
    )
    plan = DataPoint(
        workspace_id=workspace.id,
        name="plan",
        label="Plan",
        type=DataPointType.CHOICE,
        choices=PLANS,
    )
    team_size = DataPoint(
        workspace_id=workspace.id, name="team_size", label="Team size", type=DataPointType.NUMBER
    )
    # The name the API guide's example body uses, so that it registers as printed.
    example = DataPoint(
        workspace_id=workspace.id,
        name="My datapoint",
        label="My datapoint",
        type=DataPointType.TEXT,
        help_text="Filled by the JourneyData of the API guide's example body.",
    )
    db.session.add_all([company, plan, team_size, example])

    funnel = Funnel(
        workspace_id=workspace.id,
        name="Demo onboarding",
        description="Welcome new sign-ups, then qualify the larger teams.",
        status=FunnelStatus.ACTIVE,
        notify_emails=["sales@demo.example"],
    )
    db.session.add(funnel)
    db.session.flush()
    welcome = funnels.add_stage(funnel, "Welcome")
    funnels.add_activity(
        welcome, ActivityKind.EMAIL_LEAD, "Send the welcome email", subject="Welcome to the demo"
    )
    funnels.add_activity(
        welcome,
        ActivityKind.LEAD_TASK,
        "Tell us about your company",
        data_points=["company", "team_size"],
    )
    funnels.add_activity(welcome, ActivityKind.NOTIFY_STAFF, "Tell sales about the sign-up")
    qualify = funnels.add_stage(
        funnel,
        "Qualification",
        condition={"match": "all", "rules": [{"field": "data.team_size", "op": "gt", "value": 10}]},
    )
    funnels.add_activity(qualify, ActivityKind.STAFF_TASK, "Call the lead")
    funnels.add_activity(qualify, ActivityKind.SET_STATUS, "Mark as qualified", status="qualified")

    funnels.add_origin(funnel, OriginKind.API, "Website backend", allowed_domains=LOCAL_DOMAINS)
    funnels.add_origin(
        funnel, OriginKind.PAGE, "Hosted sign-up page", success_message="Thanks! Check your inbox."
    )
    funnels.add_origin(funnel, OriginKind.EMBED, "Form on our site", allowed_domains=LOCAL_DOMAINS)
    backoffice = funnels.add_origin(funnel, OriginKind.BACKOFFICE, "Back-office")
    _sample_leads(workspace, funnel, backoffice, (company, plan, team_size))
    _account_opening(workspace)


def _account_opening(workspace: Workspace) -> None:
    """A second funnel with what journeys can do (README, "Journeys"): a decision, a staff
    task, a stakeholder's approval, an upload and a signature. No sample leads: sign up on its
    hosted page and follow the journey."""
    db.session.add(
        DataPoint(
            workspace_id=workspace.id,
            name="accountant_email",
            label="Your accountant's email",
            type=DataPointType.EMAIL,
        )
    )
    funnel = Funnel(
        workspace_id=workspace.id,
        name="Account opening",
        description="Large teams talk to sales; the others open their account themselves.",
        status=FunnelStatus.ACTIVE,
        notify_emails=["sales@demo.example"],
    )
    db.session.add(funnel)
    db.session.flush()
    about = funnels.add_stage(funnel, "About you")
    funnels.add_activity(about, ActivityKind.EMAIL_LEAD, "Welcome", subject="Your account")
    funnels.add_activity(
        about,
        ActivityKind.LEAD_TASK,
        "Tell us about your team",
        data_points=["team_size", "accountant_email"],
    )
    sales = funnels.add_stage(funnel, "Sales review")
    funnels.add_activity(sales, ActivityKind.STAFF_TASK, "Call the lead", due_within_days=2)
    paperwork = funnels.add_stage(funnel, "Paperwork")
    funnels.add_activity(
        paperwork,
        ActivityKind.STAKEHOLDER_TASK,
        "Approve the account",
        email_data_point="accountant_email",
        action="approve",
        show_data_points=["team_size"],
        instructions="Please confirm that this company may open an account.",
    )
    funnels.add_activity(
        paperwork, ActivityKind.UPLOAD, "Upload your registration", accept=["pdf", "jpg", "png"]
    )
    funnels.add_activity(
        paperwork,
        ActivityKind.SIGN,
        "Sign the terms",
        text="I open an account with Demo Ltd. and accept its terms of service.",
    )
    about.decisions = [
        {
            "label": "Large team",
            "condition": {
                "match": "all",
                "rules": [{"field": "data.team_size", "op": "gt", "value": 10}],
            },
            "to": sales.id,
        }
    ]
    about.otherwise = paperwork.id
    sales.otherwise = "end"
    funnels.add_origin(funnel, OriginKind.PAGE, "Account opening page")


def _sample_leads(
    workspace: Workspace, funnel: Funnel, origin: Origin, points: tuple[DataPoint, ...]
) -> None:
    company, plan, team_size = points
    rng = random.Random(20261122)
    now = utcnow()
    for index, (first, last) in enumerate(zip(FIRST_NAMES, LAST_NAMES, strict=True)):
        source, medium = rng.choice(SOURCES)
        created_at = now - timedelta(days=rng.randint(0, 29), minutes=rng.randint(0, 1440))
        lead = Lead(
            workspace_id=workspace.id,
            origin_id=origin.id,
            email=f"{first.lower().replace('é', 'e').replace('è', 'e')}.{index}@example.com",
            phone=f"+1202555{index:04d}" if index % 3 else None,
            first_name=first,
            last_name=last,
            status=rng.choice(STATUSES),
            source="demo",
            utm_source=source,
            utm_medium=medium,
            utm_campaign="autumn-launch" if source else None,
            tags=sorted(rng.sample(TAGS, rng.randint(0, 2))),
            opt_in=index % 2 == 0,
            opt_in_at=created_at if index % 2 == 0 else None,
            created_at=created_at,
            updated_at=created_at,
        )
        db.session.add(lead)
        db.session.flush()
        journey = start_journey(lead, funnel, origin)
        db.session.add(journey)
        journey.created_at = created_at
        journey.data = [
            JourneyData(data_point=company, value=f"{last} & Co"),
            JourneyData(data_point=plan, value=rng.choice(PLANS)),
            JourneyData(data_point=team_size, value=rng.choice([2, 5, 12, 40, 250])),
        ]
        db.session.add(
            Event(
                workspace_id=workspace.id,
                lead_id=lead.id,
                journey_id=journey.id,
                type="lead.created",
                payload={"source": "demo"},
                created_at=created_at,
            )
        )
        db.session.flush()
        # Sample journeys start in their first stage as of their registration; the worker
        # then runs what has come due (the welcome emails land in the dev mailbox).
        enter_first_stage(journey, now=created_at)
