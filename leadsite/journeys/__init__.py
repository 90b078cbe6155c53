"""Journeys: generated from a funnel when a lead registers; the engine that runs them lives here."""

from leadsite.journeys.generate import new_access_token, start_journey
from leadsite.journeys.plan import funnel_plan

__all__ = ["funnel_plan", "new_access_token", "start_journey"]
