"""Run the real `nwbconvert` console command in a subprocess and capture what a user would see."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ENV = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | {"COLUMNS": "200"}


def nwbconvert(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nwbconvert", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=ENV,
        timeout=600,
    )
