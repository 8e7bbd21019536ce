"""Conversion speed and memory side by side: nwbconvert, NeuroConv and `cp`, on one workload, in one run.

    python benchmarks/convert_speed.py --neuroconv-python /path/to/venv/bin/python   # 384 ch x 60 s SpikeGLX
    python benchmarks/convert_speed.py --seconds 240 --neuroconv-python ...          # any length

The workload is a SpikeGLX run (Neuropixels 1.0 AP band: 384 channels + sync, 30 kHz, int16) written in the
vendor's layout by `nwbconvert.synthetic.spikeglx`, one second at a time. Both tools convert its AP stream.
NeuroConv runs in the interpreter given (install it there with `pip install 'nwbconvert[bench]'`, i.e.
`neuroconv[spikeglx]==0.10.2`); it uses its defaults (gzip level 4, HDF5's single-threaded filter).
Each run is its own process; wall time, throughput of the source data file, peak RSS (ru_maxrss) and output
size are printed as a table with the ratios and written as JSON to benchmarks/results/convert_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEAK = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
sys.exit(code)
"""
NEUROCONV = """
import sys, datetime as dt
from neuroconv.datainterfaces import SpikeGLXRecordingInterface
folder, out = sys.argv[1:3]
interface = SpikeGLXRecordingInterface(folder_path=folder, stream_id="imec0.ap")
metadata = interface.get_metadata()
metadata["NWBFile"]["session_start_time"] = dt.datetime(2026, 1, 15, 10, tzinfo=dt.timezone.utc)
metadata["Subject"] = dict(subject_id="m1", species="Mus musculus", sex="F", age="P90D")
interface.run_conversion(nwbfile_path=out, metadata=metadata, overwrite=True)
"""
METADATA = [
    "--timezone=UTC",
    "--set=subject.subject_id=m1",
    "--set=subject.species=Mus musculus",
    "--set=subject.sex=F",
    "--set=subject.age=P90D",
]


@dataclass
class Run:
    tool: str
    setting: str
    wall_s: float
    mb_per_s: float
    peak_rss_mb: float
    output_mb: float


def timed(label: str, setting: str, command: list[str], output: Path, source_bytes: int) -> Run:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, *command], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{label} failed:\n{done.stderr[-3000:]}")
    peak = float(done.stdout.strip().splitlines()[-1])
    size = output.stat().st_size if output.exists() else 0
    return Run(label, setting, wall, source_bytes / 1e6 / wall, peak, size / 1e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--channels", type=int, default=384)
    parser.add_argument("--neuroconv-python", help="interpreter with neuroconv installed (omit to skip NeuroConv)")
    parser.add_argument("--scratch", type=Path, default=HERE / "workload")
    args = parser.parse_args()

    from nwbconvert.synthetic.spikeglx import write_spikeglx_run

    args.scratch.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=args.scratch))
    run = write_spikeglx_run(scratch, seconds=args.seconds, n_channels=args.channels)
    data_file = run.ap_bin
    source_bytes = data_file.stat().st_size
    nwbconvert = [sys.executable, "-m", "nwbconvert", "convert", str(run.folder), "--stream", "imec0.ap", "-q"]
    nwbconvert += ["--overwrite", "--no-validate", *METADATA]
    cores = os.cpu_count() or 1
    runs: list[Run] = []
    copy = scratch / "copy.dat"
    runs.append(timed("cp", "data file", ["cp", str(data_file), str(copy)], copy, source_bytes))
    copy.unlink()
    for jobs in sorted({1, 2, cores}):
        out = scratch / f"nwbconvert_gzip_{jobs}.nwb"
        runs.append(
            timed(
                "nwbconvert",
                f"gzip 4, {jobs} core(s)",
                [*nwbconvert, "-o", str(out), "-j", str(jobs)],
                out,
                source_bytes,
            )
        )
        out.unlink()
    out = scratch / "nwbconvert_none.nwb"
    runs.append(
        timed("nwbconvert", "uncompressed", [*nwbconvert, "-o", str(out), "--compression", "none"], out, source_bytes)
    )
    out.unlink()
    if args.neuroconv_python:
        out = scratch / "neuroconv.nwb"
        command = [args.neuroconv_python, "-c", NEUROCONV, str(run.folder), str(out)]
        runs.append(timed("NeuroConv 0.10", "defaults (gzip)", command, out, source_bytes))
        out.unlink()
    shutil.rmtree(scratch)
    _report(runs, source_bytes, args)


def _report(runs: list[Run], source_bytes: int, args: argparse.Namespace) -> None:
    by = {(r.tool, r.setting): r for r in runs}
    cp = by[("cp", "data file")]
    neuroconv = next((r for r in runs if r.tool.startswith("NeuroConv")), None)
    print(f"workload: SpikeGLX AP, {args.channels} ch x {args.seconds:g} s, {source_bytes / 1e6:.0f} MB int16")
    head = f"{'tool':<16}{'setting':<22}{'wall s':>8}{'MB/s':>8}{'peak MiB':>9}{'out MB':>8}"
    print(head + f"{'NeuroConv/this':>15}{'this/cp':>8}")
    for r in runs:
        speedup = f"{neuroconv.wall_s / r.wall_s:.2f}x" if neuroconv and r.tool == "nwbconvert" else ""
        print(
            f"{r.tool:<16}{r.setting:<22}{r.wall_s:>8.1f}{r.mb_per_s:>8.0f}{r.peak_rss_mb:>9.0f}{r.output_mb:>8.0f}"
            f"{speedup:>15}{r.wall_s / cp.wall_s:>7.2f}x"
        )
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    doc = {
        "channels": args.channels,
        "seconds": args.seconds,
        "source_mb": source_bytes / 1e6,
        "cpu_count": os.cpu_count(),
    }
    (results / "convert_speed.json").write_text(json.dumps(doc | {"runs": [asdict(r) for r in runs]}, indent=2))


if __name__ == "__main__":
    main()
