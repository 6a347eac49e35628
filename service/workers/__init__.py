"""Background work of a running service: delivering the outbox, processing inbound mail."""
