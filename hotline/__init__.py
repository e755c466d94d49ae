"""The `hotline` command and the plumbing that runs the services together.

Owns: the CLI, the Asterisk root (install, render, start, stop), process supervision.
Must not: hold call logic; that lives in agi/, acd/, crm_bridge/, workorders/, recordings/.
"""
