"""CRM bridge: turns Asterisk's AMI events into call records and draft work orders.

Must not: place or steer calls; it listens and records.
"""
