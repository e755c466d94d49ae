"""Recordings: naming, the recordings table, (later) post-processing and retention.

Must not: decide anything about calls; it only knows files and the call id they belong to.
"""
