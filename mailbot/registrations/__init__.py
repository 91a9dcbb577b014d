"""The domain: registrations, seats, waiting list, erasure; writes rows and outbox rows together."""
