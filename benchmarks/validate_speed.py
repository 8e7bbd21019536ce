"""Validation speed: nwbconvert validate vs NWB Inspector alone, and -j 2 vs serial on many small files.

    python benchmarks/validate_speed.py                 # 1.4 GB file (384 ch x 60 s) + 100 small files
    python benchmarks/validate_speed.py --seconds 10    # a smaller large file, for a quick look

Workload goes to benchmarks/workload/ (reused when present); the table is printed and written as JSON
to benchmarks/results/validate_speed.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
METADATA = [
    "--set=session_start_time=2026-01-15T10:00:00+00:00",
    "--set=subject.subject_id=m1",
    "--set=subject.species=Mus musculus",
    "--set=subject.sex=F",
    "--set=subject.age=P90D",
]


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def large_file(workload: Path, seconds: float) -> Path:
    from nwbconvert.synthetic.spikeglx import write_spikeglx_run

    out = workload / f"large_{seconds:g}s.nwb"
    if not out.exists():
        run = write_spikeglx_run(workload / "large_src", seconds=seconds, n_channels=384)
        subprocess.run(
            [
                str(BIN / "nwbconvert"),
                "convert",
                str(run.folder),
                "-o",
                str(out),
                "--stream",
                "imec0.ap",
                "--no-validate",
                "-q",
                *METADATA,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(workload / "large_src")
    return out


def small_files(workload: Path, n: int) -> Path:
    folder = workload / f"small_{n}"
    if not folder.exists():
        folder.mkdir(parents=True)
        sample = HERE.parent / "sample_data" / "openephys"
        for i in range(n):
            subprocess.run(
                [
                    str(BIN / "nwbconvert"),
                    "convert",
                    str(sample),
                    "-o",
                    str(folder / f"s{i:03d}.nwb"),
                    "--stub",
                    "0.05",
                    "--no-validate",
                    "-q",
                    *METADATA,
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the 384-channel recording")
    parser.add_argument("--small", type=int, default=100, help="number of small files")
    args = parser.parse_args()
    workload = HERE / "workload"
    workload.mkdir(exist_ok=True)
    large = large_file(workload, args.seconds)
    folder = small_files(workload, args.small)
    nwbconvert, inspector = str(BIN / "nwbconvert"), str(BIN / "nwbinspector")
    rows = {
        "large: nwbinspector --config dandi": timed([inspector, str(large), "--config", "dandi"]),
        "large: nwbconvert validate": timed([nwbconvert, "validate", str(large)]),
        f"{args.small} small: nwbconvert validate -j 1": timed([nwbconvert, "validate", str(folder), "-j", "1"]),
        f"{args.small} small: nwbconvert validate -j 2": timed([nwbconvert, "validate", str(folder), "-j", "2"]),
    }
    keys = list(rows)
    ratios = {
        "large: nwbconvert / nwbinspector": rows[keys[1]] / rows[keys[0]],
        "small: -j 2 / -j 1": rows[keys[3]] / rows[keys[2]],
    }
    print(f"large file: {large.name} ({large.stat().st_size / 1e9:.2f} GB); {args.small} small files")
    for name, seconds in rows.items():
        print(f"  {name:45s} {seconds:8.2f} s")
    for name, ratio in ratios.items():
        print(f"  {name:45s} {ratio:8.2f} x")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    doc = {"large_bytes": large.stat().st_size, "seconds": rows, "ratios": ratios}
    (results / "validate_speed.json").write_text(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
