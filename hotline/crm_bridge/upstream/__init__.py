"""Upstream sync (art. 5, 16): call records and work orders pushed to the regional platform.

Owns the outbox table, the wire format (signing, idempotency keys), the sender service
and the reference receiver. Must not: change a call record or a work order.
"""
