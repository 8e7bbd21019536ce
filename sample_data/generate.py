"""Regenerate the bundled sample recordings (deterministic): python sample_data/generate.py"""

from __future__ import annotations

import shutil
from pathlib import Path

from nwbconvert.synthetic.openephys import write_openephys_binary
from nwbconvert.synthetic.spikeglx import write_spikeglx_run

HERE = Path(__file__).resolve().parent


def main() -> None:
    for name in ("spikeglx", "openephys"):
        shutil.rmtree(HERE / name, ignore_errors=True)
    run = write_spikeglx_run(HERE / "spikeglx", run="Sample", seconds=3.0)
    oe = write_openephys_binary(HERE / "openephys", seconds=3.0)
    print(f"wrote {run.folder.relative_to(HERE)} and {oe.folder.relative_to(HERE)}")


if __name__ == "__main__":
    main()
