"""ACD: agents' states (AMI events -> Redis/MQTT), membership and pause, supervisor actions.

Must not: write call records; that is the bridge's job.
"""
