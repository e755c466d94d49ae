"""Recordings: archive every call (transcode, hash chain), verify, retain, guard the disk, serve.

Must not: decide anything about calls; it only knows files and the call id they belong to.
"""
