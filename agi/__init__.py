"""The FastAGI server and the IVR flows that Asterisk runs with AGI(agi://…/<route>).

Owns: the AGI protocol, the routes, config/ivr.yaml. Must not: talk to the database or AMI.
"""
