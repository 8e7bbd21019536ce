"""Where a study's files go: DANDI paths of the sessions and the run's state folder (the session lock: lock.py).

    <out>/sub-<subject>/sub-<subject>_ses-<session>_<modality>.nwb
    <out>/sub-<subject>/sub-<subject>_ses-<session>_<modality>/<ImageSeries id>_external_file_0.mp4   (videos)
    <out>/.nwbconvert/{manifest,locks,logs}/<key>.{json,lock,log}     (hidden: dandi upload ignores it)

Labels are sanitised as DANDI does: only ASCII letters, digits and '-' remain, every other run of characters
becomes one '-', so no metadata value ('../../etc', '/abs/path', 'a_b') can name a file outside the output folder.
The modality (`ecephys`, `icephys`, `ophys`, `behavior+ecephys`, or none) is the one `dandi organize` gives the
file's content (dandi_naming.py), decided once the session's plan is made (`named`); until then, and in a dry
run of a session not yet converted, a session's path says `ecephys`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.errors import UsageError

if TYPE_CHECKING:
    from nwbconvert.plan import Plan

STATE = ".nwbconvert"
SUFFIX = "ecephys"
_NOT_LABEL = re.compile(r"[^A-Za-z0-9-]+")


def label(value: str, what: str = "label") -> str:
    """A DANDI entity label: 'm_1' -> 'm-1', '../../etc' -> 'etc'. Nothing left -> UsageError."""
    text = re.sub("-{2,}", "-", _NOT_LABEL.sub("-", value)).strip("-")
    if not text:
        raise UsageError(
            f"{what} {value!r} has no letters or digits, so it cannot name a file in DANDI layout "
            "(sub-<subject>_ses-<session>). Give it letters or digits."
        )
    return text


def session_key(subject_id: str, session_id: str) -> str:
    """'sub-m1_ses-day1' (or 'sub-m1' without a session id): names the output, log, lock and manifest entry."""
    key = f"sub-{label(subject_id, 'subject_id')}"
    return f"{key}_ses-{label(session_id, 'session_id')}" if session_id else key


def session_path(output_dir: Path, subject_id: str, session_id: str) -> Path:
    """<out>/sub-<subject>/<key>_ecephys.nwb, absolute."""
    root = output_dir.expanduser().absolute()
    return root / f"sub-{label(subject_id, 'subject_id')}" / f"{session_key(subject_id, session_id)}_{SUFFIX}.nwb"


def named(output: Path, key: str, plan: Plan) -> Path:
    """The session's file in `output`'s folder, named with the DANDI modality of what `plan` writes."""
    from nwbconvert.dandi_naming import file_name, plan_modality
    from nwbconvert.output import output_suffix

    return output.with_name(file_name(key, plan_modality(plan), output_suffix(output)))


def misnamed(output: Path, key: str) -> str | None:
    """What to say when the written file's content has another modality than its name (None when they agree)."""
    from nwbconvert.dandi_naming import file_modality, file_name
    from nwbconvert.output import output_suffix

    right = file_name(key, file_modality(output), output_suffix(output))
    if right == output.name:
        return None
    return f"dandi organize would name {output.name} {right} (the modality of its content); rename it before upload."


def video_path(nwb_file: Path, object_id: str, index: int, suffix: str) -> Path:
    """Where `dandi organize` puts file `index` of an ImageSeries' external_file (dandi-cli 0.81,
    `organize._create_external_file_names`): a folder named after the NWB file (its name without the last
    suffix) beside it, the file named `<ImageSeries object_id>_external_file_<index><suffix in lower case>`."""
    return nwb_file.parent / Path(nwb_file.name).stem / f"{object_id}_external_file_{index}{suffix.lower()}"


def output_root(output: Path) -> Path:
    """The output folder of a session file written by `session_path`."""
    return output.parent.parent


def state_dir(output_dir: Path) -> Path:
    """<out>/.nwbconvert: manifest, locks and logs of batch runs."""
    return output_dir / STATE


def manifest_path(output: Path, key: str) -> Path:
    return state_dir(output_root(output)) / "manifest" / f"{key}.json"


def lock_path(output: Path, key: str) -> Path:
    return state_dir(output_root(output)) / "locks" / f"{key}.lock"


def log_path(output: Path, key: str) -> Path:
    return state_dir(output_root(output)) / "logs" / f"{key}.log"


def remove_empty(folders: Iterable[Path]) -> None:
    """Remove those of `folders` that are empty: subject folders a batch created for sessions that all failed.
    A folder another session or run has begun writing into is not empty, and stays."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            continue


def check_unique(sessions: Iterable[tuple[str, Path]]) -> None:
    """(where a session came from, its output) pairs: two sessions writing one file -> one UsageError listing them
    (compared without case, as macOS and Windows file systems do)."""
    by_path: dict[str, list[tuple[str, Path]]] = {}
    for origin, output in sessions:
        by_path.setdefault(str(output).lower(), []).append((origin, output))
    clashes = [group for group in by_path.values() if len(group) > 1]
    if clashes:
        lines = "\n".join(f"  - {group[0][1]}: " + "; ".join(origin for origin, _ in group) for group in clashes[:20])
        raise UsageError(
            f"{len(clashes)} output file(s) would be written by more than one session (labels keep only letters, "
            f"digits and '-', so e.g. 'm_1' and 'm-1' are the same subject):\n{lines}\n"
            "Give those sessions distinct subject_id/session_id values."
        )
