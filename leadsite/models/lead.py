"""Leads: the people who register, unique per workspace by email, phone, unique_id, share code."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from leadsite.extensions import db
from leadsite.ids import new_share_code
from leadsite.models.base import ID, PublicIdMixin, TimestampMixin
from leadsite.models.types import JSONType, UTCDateTime

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
SEARCH_KEY_LENGTH = 200  # a name is at most 100 characters; a few expand when decomposed
# Letters that Unicode does not decompose into a base letter and an accent.
UNDECOMPOSED = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "\u0131": "i"}  # \u0131: the dotless i
    | {"æ": "ae", "œ": "oe", "ð": "d", "þ": "th"}
)


def search_key(value: str | None) -> str | None:
    """`value` as the leads search compares it: case and accents dropped (`garcia` finds
    García, `EMILE` finds Émile), the same in Python on both databases."""
    if value is None:
        return None
    decomposed = unicodedata.normalize("NFKD", value.casefold().translate(UNDECOMPOSED))
    key = "".join(c for c in decomposed if not unicodedata.combining(c))
    return key[:SEARCH_KEY_LENGTH]


def _search_key_of(name: str) -> Callable[[DefaultExecutionContext], str | None]:
    """The default of a search key column: the key of `name` in the same INSERT, for rows
    inserted without the ORM (bulk inserts); the ORM sets keys as names change (`Lead`)."""

    def default(context: DefaultExecutionContext | None) -> str | None:
        if context is None:  # a new object (models.base.apply_defaults): `Lead` sets it
            return None
        return search_key(context.get_current_parameters().get(name))

    return default


class Lead(PublicIdMixin, TimestampMixin, db.Model):
    __tablename__ = "leads"
    __table_args__ = (
        # PostgreSQL: what the one foreign key of journeys and of events to their lead and its
        # workspace names (0013_fk_checks).
        UniqueConstraint("id", "workspace_id", name="uq_leads_id_workspace_id").ddl_if(
            dialect="postgresql"
        ),
        # NULLs are distinct on SQLite and PostgreSQL, so each identifier is unique when present.
        # On PostgreSQL email and phone are unique by their prefix indexes below (one index, not
        # two, for each new lead to write: text_pattern_ops serves `=` as well as `LIKE 'abc%'`).
        UniqueConstraint("workspace_id", "email").ddl_if(dialect="sqlite"),
        UniqueConstraint("workspace_id", "phone").ddl_if(dialect="sqlite"),
        UniqueConstraint("workspace_id", "unique_id"),
        # An index, not a constraint: SQLite adds indexes to an existing table, not constraints.
        Index("ix_leads_workspace_social_id", "workspace_id", "social_id", unique=True),
        # The leads list (leadsite/leads/search.py), newest first by (created_at, id): all leads,
        # by status, by origin.
        Index("ix_leads_workspace_created", "workspace_id", "created_at", "id"),
        Index("ix_leads_workspace_status_created", "workspace_id", "status", "created_at", "id"),
        Index("ix_leads_origin_created", "origin_id", "created_at", "id"),
        # Held leads (few): the list's count of them, their list, a lead's erasure; without it
        # each read every lead of the workspace (0012_scans). Written as the queries compare.
        Index(
            "ix_leads_workspace_held",
            "workspace_id",
            "created_at",
            "id",
            postgresql_where=text("held IS true"),
            sqlite_where=text("held IS 1"),
        ),
        # The list sorted by name or email (leadsite/leads/sort.py), empty values first.
        Index(
            "ix_leads_workspace_name_sort",
            "workspace_id",
            text("coalesce(lower(first_name), '')"),
            text("coalesce(lower(last_name), '')"),
            "id",
        ),
        Index("ix_leads_workspace_email_sort", "workspace_id", text("coalesce(email, '')"), "id"),
        # Prefix search on names by their search keys: `LIKE 'abc%'` on PostgreSQL needs
        # text_pattern_ops (its default operator class follows the collation, which LIKE cannot
        # use); on SQLite the search is the range [prefix, successor), which a plain index serves.
        Index(
            "ix_leads_workspace_first_name",
            "workspace_id",
            "first_name_key",
            postgresql_ops={"first_name_key": "text_pattern_ops"},
        ),
        Index(
            "ix_leads_workspace_last_name",
            "workspace_id",
            "last_name_key",
            postgresql_ops={"last_name_key": "text_pattern_ops"},
        ),
        # PostgreSQL only (ddl_if; migrations/env.py leaves them out of comparisons elsewhere):
        # email and phone prefixes, the registration's match, and the unique rule
        # (0011_lean_indexes). On SQLite the unique constraints above do all three.
        Index(
            "ix_leads_workspace_email_pattern",
            "workspace_id",
            "email",
            unique=True,
            postgresql_ops={"email": "text_pattern_ops"},
        ).ddl_if(dialect="postgresql"),
        Index(
            "ix_leads_workspace_phone_pattern",
            "workspace_id",
            "phone",
            unique=True,
            postgresql_ops={"phone": "text_pattern_ops"},
        ).ddl_if(dialect="postgresql"),
        # The tag filter, `tags @> '["vip"]'`; SQLite has no index for JSON array members.
        Index(
            "ix_leads_tags",
            "tags",
            postgresql_using="gin",
            postgresql_ops={"tags": "jsonb_path_ops"},
        ).ddl_if(dialect="postgresql"),
    )
    id_prefix = "lead"

    workspace_id: Mapped[str] = mapped_column(ID, ForeignKey("workspaces.id", ondelete="CASCADE"))
    # The origin the lead first registered through; later registrations keep it.
    origin_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("origins.id", ondelete="SET NULL")
    )  # indexed by ix_leads_origin_created

    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    unique_id: Mapped[str | None] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    # The names as the leads search compares them (`search_key`), kept as the names change.
    first_name_key: Mapped[str | None] = mapped_column(
        String(SEARCH_KEY_LENGTH), default=_search_key_of("first_name")
    )
    last_name_key: Mapped[str | None] = mapped_column(
        String(SEARCH_KEY_LENGTH), default=_search_key_of("last_name")
    )
    address: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(40), default="new")
    # The language the lead registered in (`leadsite.i18n`): their journey and emails speak it.
    language: Mapped[str | None] = mapped_column(String(8))

    source: Mapped[str | None] = mapped_column(String(200))
    source_url: Mapped[str | None] = mapped_column(String(2000))
    referrer: Mapped[str | None] = mapped_column(String(2000))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    utm_source: Mapped[str | None] = mapped_column(String(200))
    utm_medium: Mapped[str | None] = mapped_column(String(200))
    utm_campaign: Mapped[str | None] = mapped_column(String(200))
    utm_term: Mapped[str | None] = mapped_column(String(200))
    utm_content: Mapped[str | None] = mapped_column(String(200))

    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    counter: Mapped[int] = mapped_column(default=1)
    # Referrals: the lead's share code (`kid` in share URLs), who referred them, how many they
    # referred; and their contest score.
    social_id: Mapped[str | None] = mapped_column(String(16), default=new_share_code)
    # A lead id, without a foreign key: SQLite adds one to an existing table only by rebuilding
    # it; leads are never deleted one by one (erasing keeps the row), so the id stays good.
    # Not indexed: nothing looks leads up by who referred them (`referrals` counts them), and
    # every new lead paid for the index (0011_lean_indexes).
    referred_by: Mapped[str | None] = mapped_column(ID)
    referrals: Mapped[int] = mapped_column(default=0, server_default="0")
    points: Mapped[int] = mapped_column(default=0, server_default="0")

    opt_in: Mapped[bool] = mapped_column(default=False)
    opt_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sms_opt_in: Mapped[bool] = mapped_column(default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Consent as shown and given: text, version, time, IP and user agent.
    consent: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Held: a public form submission judged a bot's (sent faster than a person fills the form,
    # or the honeypot filled). Kept with no journey, events or messages until staff accept it
    # (`registration.held`); `held_submission` is what it sent, to register it then.
    held: Mapped[bool] = mapped_column(default=False, server_default=false())
    held_submission: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    journeys: Mapped[list[Journey]] = relationship(  # noqa: F821
        back_populates="lead",
        cascade="all, delete-orphan",
        order_by="Journey.created_at",
        primaryjoin="Lead.id == Journey.lead_id",
        foreign_keys="Journey.lead_id",
    )

    @validates("first_name", "last_name")
    def _set_search_key(self, name: str, value: str | None) -> str | None:
        setattr(self, f"{name}_key", search_key(value))
        return value

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def display_name(self) -> str:
        return self.name or self.email or self.phone or self.unique_id or self.id
