"""The call record: one row per citizen call, the shape every domain reads, and what was
said in a call or a message as recognised (transcripts)."""
