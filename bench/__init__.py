"""Benchmarks: our engine (ENG) against a pure-dialplan reference (REF) measured in the same run.

Not part of the test suite; `hotline bench all` runs them and writes bench/results/.
"""
