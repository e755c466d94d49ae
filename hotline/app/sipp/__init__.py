"""SIPp scenarios of `hotline call` (data, read by hotline/call.py); no code."""
