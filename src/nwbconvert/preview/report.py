"""Build the report of one NWB file (sections only for what it holds) and write it: the HTML page atomically,
and with `png_dir` every figure as a PNG too."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from nwbconvert.errors import MissingDependency, OutputError
from nwbconvert.preview.model import Report, Section

SUFFIX = ".preview.html"


@dataclass(frozen=True)
class PreviewOptions:
    validate: bool = True


def default_destination(path: Path) -> Path:
    """`<stem>.preview.html` beside the file (a store's `.nwb.zarr` and a file's `.nwb` are dropped)."""
    name = path.name
    for suffix in (".nwb.zarr", ".zarr", ".nwb"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return path.parent / f"{name}{SUFFIX}"


def build(path: Path, options: PreviewOptions = PreviewOptions(), fileobj: IO[bytes] | None = None) -> Report:
    """Every section the file holds, drawn from what is read of it lazily; a section that fails to draw says why
    in its place (the others are still drawn)."""
    from nwbconvert.preview import behavior, ecephys, info, intervals, ophys, pose, units
    from nwbconvert.preview.findings import skipped_section, validation_section
    from nwbconvert.preview.source import open_nwb

    started = time.perf_counter()
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise MissingDependency("nwbconvert preview", "matplotlib", "preview") from None
    with open_nwb(path, fileobj) as nwb:
        builders: list[tuple[str, str, Callable[[], Section | None]]] = [
            ("session", "Session", lambda: info.session_section(path, nwb)),
            ("subject", "Subject", lambda: info.subject_section(nwb)),
            ("devices", "Devices", lambda: info.devices_section(nwb)),
            ("provenance", "Provenance", lambda: info.provenance_section(nwb)),
            ("validation", "Validation", lambda: validation_section(path) if options.validate else skipped_section()),
            ("ecephys", "Extracellular electrophysiology", lambda: ecephys.ecephys_section(nwb)),
            ("units", "Units", lambda: units.units_section(nwb)),
            ("intervals", "Events and trials", lambda: intervals.intervals_section(nwb)),
            ("ophys", "Imaging", lambda: ophys.ophys_section(nwb)),
            ("pose", "Pose", lambda: pose.pose_section(nwb, path)),
            ("behavior", "Behavior and other series", lambda: behavior.behavior_section(nwb)),
        ]
        sections = [s for s in (_guarded(id, title, make, path) for id, title, make in builders) if s is not None]
        title = _title(nwb, path)
    return Report(str(path), title, tuple(sections), time.perf_counter() - started)


def _guarded(id: str, title: str, make: Callable[[], Section | None], path: Path) -> Section | None:
    from nwbconvert.readers.plain import explain

    try:
        return make()
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        return Section(id, title, notes=(f"This section could not be drawn: {explain(exc, path)}.",))


def _title(nwb: Any, path: Path) -> str:
    subject = getattr(nwb.subject, "subject_id", None) if nwb.subject is not None else None
    parts = [p for p in (subject and f"subject {subject}", nwb.session_id and f"session {nwb.session_id}") if p]
    return f"{path.name}" + (f" ({', '.join(parts)})" if parts else "")


def write(report: Report, dest: Path, png_dir: Path | None = None) -> list[Path]:
    """The HTML page at `dest` (replacing one there), and each figure as `<png_dir>/<key>.png`; the paths
    written, page first."""
    from nwbconvert.preview.html import render

    written = [dest]
    _atomic_bytes(dest, render(report).encode("utf-8"))
    if png_dir is not None:
        try:
            png_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{png_dir}: the folder for the figures cannot be created ({exc.strerror}).") from None
        taken: set[str] = set()
        for figure in report.figures:
            name = figure.key
            while name in taken:  # two series of one name in different places
                name = f"{name}_"
            taken.add(name)
            target = png_dir / f"{name}.png"
            _atomic_bytes(target, figure.png)
            written.append(target)
    return written


def _atomic_bytes(dest: Path, content: bytes) -> None:
    """`content` at `dest` through a hidden temporary sibling renamed into place once on disk."""
    from nwbconvert.output import atomic_output

    if dest.is_dir():
        raise OutputError(f"{dest}: is a folder; give the path of the .html file to write, e.g. {dest}/report.html.")
    with atomic_output(dest, overwrite=True) as tmp:
        tmp.write_bytes(content)  # atomic_output makes it durable before the rename
