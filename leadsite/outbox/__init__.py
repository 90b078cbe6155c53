"""Side effects: events, and the outbox of webhooks and emails written with them."""
