"""A small study for batch conversion: subjects x sessions of tiny SpikeGLX and Open Ephys recordings.

    root/raw/<subject>/<session>/...       one recording per session, the formats alternating
    root/lab.yaml                          metadata every session shares (species, lab, institution)
    root/subjects/<subject>.yaml           per-subject metadata (sex, age)

SpikeGLX headers carry a local start time without a zone: convert them with a timezone (e.g. UTC).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import NamedTuple

from nwbconvert.synthetic.openephys import write_openephys_binary
from nwbconvert.synthetic.spikeglx import write_spikeglx_run

FORMATS = ("spikeglx", "openephys")
FIRST_START = dt.datetime(2026, 1, 15, 10, 0, 0)
SEXES = ("F", "M")
LAB = "lab: Synthetic Lab\ninstitution: nwbconvert\nsubject:\n  species: Mus musculus\n"


class StudySession(NamedTuple):
    """One generated session: unpacks as (subject, session, path)."""

    subject: str
    session: str
    path: Path


def session_format(subject_index: int, session_index: int) -> str:
    """Which generator writes a session: the formats alternate, so every subject has both."""
    return FORMATS[(subject_index + session_index) % len(FORMATS)]


def session_start(subject_index: int, session_index: int) -> dt.datetime:
    """When a session started (naive; the Open Ephys recordings store it as UTC): one day per session."""
    return FIRST_START + dt.timedelta(days=session_index, hours=subject_index)


def write_study(root: Path, subjects: int = 3, sessions: int = 2, seconds: float = 1.0) -> list[StudySession]:
    """Write `subjects` x `sessions` recordings under root/raw/m<i>/day<j>/ (about 1 MB each) and the lab and
    per-subject metadata files; returns (subject, session, path) of each session, path = the session folder."""
    written: list[StudySession] = []
    (root / "subjects").mkdir(parents=True, exist_ok=True)
    (root / "lab.yaml").write_text(LAB)
    for i in range(subjects):
        subject = f"m{i + 1}"
        (root / "subjects" / f"{subject}.yaml").write_text(f"subject:\n  sex: {SEXES[i % 2]}\n  age: P{60 + 10 * i}D\n")
        for j in range(sessions):
            session = f"day{j + 1}"
            folder = root / "raw" / subject / session
            folder.mkdir(parents=True, exist_ok=True)
            start = session_start(i, j)
            seed = 1000 * i + j
            if session_format(i, j) == "spikeglx":
                write_spikeglx_run(
                    folder, run=f"{subject}{session}", seconds=seconds, n_channels=8, start=start, seed=seed
                )
            else:
                utc = start.replace(tzinfo=dt.timezone.utc)
                write_openephys_binary(folder, seconds=seconds, n_channels=8, start=utc, seed=seed)
            written.append(StudySession(subject, session, folder))
    return written
