"""The kernel: database, column types, Redis, service names, what routes read from the web
app (web.py); imports nothing of ours above it but the settings."""
