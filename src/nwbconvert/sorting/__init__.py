"""Spike sortings: the units stored in source files and sorter output folders read by spikeinterface."""

from __future__ import annotations

from pathlib import Path

from nwbconvert.errors import UsageError
from nwbconvert.model import Session


def attach_sortings(session: Session, paths: tuple[Path, ...]) -> Session:
    raise UsageError("--sorting: not supported yet.")
