"""Pydantic models of the Kohomai dialect's bodies and answers (they also make its OpenAPI)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel

from leadsite.api.schemas import HTTP_URL_OR_EMPTY, StringOrNumber


class KohomaiContactPrefs(BaseModel):
    model_config = ConfigDict(extra="allow")

    Email: str | None = Field(None, json_schema_extra={"format": "email"})
    Phone: StringOrNumber = None


class KohomaiUser(BaseModel):
    model_config = ConfigDict(extra="allow")

    Firstname: str | None = None
    Lastname: str | None = None
    ContactPrefs: KohomaiContactPrefs | None = None


class KohomaiDataPointRef(BaseModel):
    Id: str = Field(description="The data point's id (`dp_...`) or its name.")


class KohomaiJourneyDataItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    StringValue: Any = Field(
        None, description="The value; any other key ending in `Value` (`NumberValue`, ...) too."
    )
    DataPoint: KohomaiDataPointRef


class KohomaiJourneyIn(BaseModel):
    User: KohomaiUser
    JourneyData: list[KohomaiJourneyDataItem] | None = None


class KohomaiNestedBody(BaseModel):
    """The older registration guide's body."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "Journey": {
                        "User": {
                            "Firstname": "John",
                            "Lastname": "Doe",
                            "ContactPrefs": {"Email": "johndoe@gmail.com"},
                        },
                        "JourneyData": [
                            {"StringValue": "example", "DataPoint": {"Id": "My datapoint"}}
                        ],
                    },
                    "RedirectURL": "https://www.myapp.com",
                }
            ]
        },
    )

    Journey: KohomaiJourneyIn
    RedirectURL: str | None = Field(None, json_schema_extra={"pattern": HTTP_URL_OR_EMPTY})


class KohomaiFlatBody(BaseModel):
    """The no-code (Bubble) guide's body; any key of a leadsite registration works too."""

    model_config = ConfigDict(extra="allow")

    Email: str | None = None
    Firstname: str | None = None
    Lastname: str | None = None
    PhoneNumber: StringOrNumber = None
    RedirectURL: str | None = Field(None, json_schema_extra={"pattern": HTTP_URL_OR_EMPTY})


class KohomaiJourneyBody(RootModel[KohomaiNestedBody | KohomaiFlatBody]):
    """`POST /api/v1/journeys?ref=`: the nested body or the flat one."""


class KohomaiUserOut(BaseModel):
    Firstname: str | None
    Lastname: str | None
    Id: str = Field(description="The lead's id.")


class KohomaiJourneyAnswer(BaseModel):
    """Kohomai's journey: its id, and the link that opens the lead's page."""

    UUID: str = Field(description="The journey's id.")
    RedirectURL: str | None
    ConnectionURL: str
    ValidUntil: str | None = Field(description="When ConnectionURL stops working.")
    createdDate: str | None
    changedDate: str | None
    User: KohomaiUserOut


class KohomaiJourneyRef(BaseModel):
    Id: str = Field(description="The journey's id (`UUID` of a registration's answer).")


class KohomaiSessionBody(BaseModel):
    """A front-office session: a one-time sign-in link to the journey's page."""

    model_config = ConfigDict(extra="allow")

    Journey: KohomaiJourneyRef
    RedirectURL: str | None = Field(None, json_schema_extra={"pattern": HTTP_URL_OR_EMPTY})
