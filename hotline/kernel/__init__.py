"""The kernel: database, column types, Redis, service names; imports nothing of ours above it."""
