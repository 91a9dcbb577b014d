"""Outbox stage: render queued mails (compose, ics) and hand them to a transport."""
