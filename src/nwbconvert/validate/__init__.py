"""Validation of NWB files: file integrity, schema (pynwb), best practices (nwbinspector), DANDI readiness."""
