"""The call record: one row per citizen call, the shape every domain reads."""
