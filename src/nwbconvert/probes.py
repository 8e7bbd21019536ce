"""--probe FILE: probe geometry from a probeinterface JSON or .prb file (work in progress)."""

from __future__ import annotations

from pathlib import Path

from nwbconvert.errors import UsageError
from nwbconvert.model import Session


def apply_probe(session: Session, probe_file: Path) -> Session:
    raise UsageError(f"--probe {probe_file}: probe files are not supported yet.")
