"""The domain: events, seats, waiting list, identity and lifecycle; rows and outbox rows together."""
