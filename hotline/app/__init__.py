"""The composition root: the CLI, the API app, the supervisor. Nothing imports it."""
