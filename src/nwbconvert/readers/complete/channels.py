"""Channel files numbered with a hole (CH1, CH2, CH4): a file may be missing from the copy.

A warning, not an error: the headers of these formats (Neuralynx .ncs, Open Ephys legacy .continuous without a
settings.xml) do not list the channels that were recorded, so a hole cannot be told from a channel that was
switched off (disabled electrodes are common); the warning names the files to look for.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from nwbconvert.model import SourceNote

NUMBERED = re.compile(r"^(.*[A-Za-z])(\d+)$")  # LAHC3, 100_CH12: a name, then the channel number


def holes(stems: Iterable[str]) -> dict[str, list[int]]:
    """For each name prefix, the numbers missing between 1 and the highest present ({} when none)."""
    numbers: dict[str, set[int]] = defaultdict(set)
    for stem in stems:
        match = NUMBERED.match(stem)
        if match:
            numbers[match.group(1)].add(int(match.group(2)))
    found = {prefix: sorted(set(range(1, max(got) + 1)) - got) for prefix, got in numbers.items() if len(got) > 1}
    return {prefix: missing for prefix, missing in found.items() if missing}


def hole_notes(folder: Path, stems: Iterable[str], suffix: str) -> list[SourceNote]:
    """A warning per name prefix whose channel numbering has a hole."""
    notes = []
    for prefix, missing in sorted(holes(stems).items()):
        names = ", ".join(f"{prefix}{n}{suffix}" for n in missing[:10]) + (", ..." if len(missing) > 10 else "")
        notes.append(
            SourceNote(
                "missing-channel",
                str(folder),
                f"{folder}: the {prefix}… channel files are numbered with a hole: no {names}. A channel file may be "
                "missing from the copy (or that channel was not recorded); converted the channels that are there.",
                f"{prefix}1…{prefix}{max(missing)}",
                f"{len(missing)} missing",
            )
        )
    return notes
