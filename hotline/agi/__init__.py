"""The FastAGI server and the voice service (IVR) Asterisk runs with AGI(agi://…/<route>).

Owns: the AGI protocol, one module per route and flow, hotline/config/ivr.yaml, blocked numbers
and survey answers. Talks to the database only through agi/services.py, never to AMI.
"""
