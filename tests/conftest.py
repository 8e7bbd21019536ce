"""Shared fixtures: paths to the real recordings beside the project, complete metadata, converters."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DATA = ROOT / "sample_data"
REALDATA = ROOT.parent / "shared" / "realdata"

COMPLETE_METADATA = (
    "session_start_time=2020-01-01T10:00:00+00:00",
    "subject.subject_id=m1",
    "subject.species=Mus musculus",
    "subject.sex=F",
    "subject.age=P90D",
)


def realdata(relative: str) -> Path:
    """A path under ../shared/realdata; skipped on a user's clone without it, a failure in CI."""
    path = REALDATA / relative
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI must run the real-recording tests")
        pytest.skip(f"real recordings not present at {REALDATA} (they live beside the project)")
    return path


@pytest.fixture(autouse=True)
def _quiet_warnings() -> None:
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=".*does not end in '.nwb'.*")
