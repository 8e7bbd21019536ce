"""Regenerate the bundled sample recordings, deterministically.

python sample_data/generate.py            # rewrite sample_data/ in place
python sample_data/generate.py --out DIR  # write them elsewhere (the tests compare both)
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from nwbconvert.synthetic.openephys import write_openephys_binary
from nwbconvert.synthetic.spikeglx import write_spikeglx_run

HERE = Path(__file__).resolve().parent


def generate(root: Path) -> None:
    for name in ("spikeglx", "openephys"):
        shutil.rmtree(root / name, ignore_errors=True)
    run = write_spikeglx_run(root / "spikeglx", run="Sample", seconds=3.0)
    oe = write_openephys_binary(root / "openephys", seconds=3.0)
    print(f"wrote {run.folder} and {oe.folder}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    generate(parser.parse_args().out)
