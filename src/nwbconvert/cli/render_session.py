"""How a session folder is shown (`nwbconvert convert DIR --dry-run`): the sources found (path, reader, role), how
each is placed in time, and what could not be placed and why."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from nwbconvert.cli.render import stdout

if TYPE_CHECKING:
    from nwbconvert.session_folder import SessionFolder


def _shown(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder)) or "."
    except ValueError:
        return str(path)


def session_folder(found: SessionFolder) -> None:
    """One row per source found, then the entries not placed."""
    table = Table(title=f"sources found in {found.folder}", title_justify="left")
    for column in ("source", "reader", "role", "name", "timing"):
        table.add_column(column)
    timing = found.timing or ("",) * len(found.sources)
    for source, how in zip(found.sources, timing):
        path = _shown(source.path, found.folder)
        if source.video is not None:
            path += f" (video: {_shown(source.video, found.folder)})"
        table.add_row(path, source.reader, source.role.value, source.name or "-", how)
    stdout.print(table)
    if found.unplaced:
        stdout.print("not placed:")
        for u in found.unplaced:
            stdout.print(f"  {_shown(u.path, found.folder)}: {u.reason}")
