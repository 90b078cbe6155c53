"""Journeys: generated from a funnel when a lead registers; the engine that runs them lives here."""

from leadsite.journeys.generate import funnel_plan, new_access_token, start_journey

__all__ = ["funnel_plan", "new_access_token", "start_journey"]
