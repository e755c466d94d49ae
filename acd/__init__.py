"""ACD: agents' queue membership (now), skills, states and live statistics (the ACD issue).

Must not: write call records; that is the bridge's job.
"""
