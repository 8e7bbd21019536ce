"""Conversion speed and memory side by side: nwbconvert, NeuroConv and `cp`, on one workload, in one run.

    python benchmarks/convert_speed.py --neuroconv-python /path/to/venv/bin/python   # 384 ch x 60 s SpikeGLX
    python benchmarks/convert_speed.py --seconds 240 --repeat 1 --neuroconv-python ...  # any length, one run each

The workload is a SpikeGLX run (Neuropixels 1.0 AP band: 384 channels + sync, 30 kHz, int16) written in the
vendor's layout by `nwbconvert.synthetic.spikeglx`, one second at a time. Every tool converts its AP stream
(`cp` copies its .bin file), with gzip level 4 (NeuroConv's default) and uncompressed.
NeuroConv runs in the interpreter given (install it there with `pip install 'nwbconvert[bench]'`, i.e.
`neuroconv[spikeglx]==0.10.2`); it writes through HDF5's single-threaded filter.

Every run is timed until its output is on disk: nwbconvert fsyncs its output before renaming it into place,
and `cp` and NeuroConv are followed by an fsync of their output inside the timing (`cp` alone only fills the
page cache, which takes 0.4 s here for 1.4 GB and is not the same work). Two conditions:
  warm  the source is in the page cache (e.g. converted right after it was copied);
  cold  the source is evicted from the page cache before each run (a recording larger than memory, or one
        that has not been read since the rig wrote it).
The `python` row only imports pynwb and neo: the start-up every converter built on them pays.
Each run is its own process; `--repeat` rounds each run every command once in turn, so drift of a shared
machine falls on every tool alike (median wall time, highest peak RSS); the table prints
wall time, throughput of the source data file, peak RSS (ru_maxrss), output size and the ratios, and is
written as JSON to benchmarks/results/convert_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Runs argv[2:], then fsyncs the output argv[1] (a file) inside the timing; prints the child's peak RSS.
PEAK = """
import os, resource, subprocess, sys
code = subprocess.run(sys.argv[2:]).returncode
if code == 0 and os.path.isfile(sys.argv[1]):
    fd = os.open(sys.argv[1], os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
sys.exit(code)
"""
NEUROCONV = """
import sys, datetime as dt
from neuroconv.datainterfaces import SpikeGLXRecordingInterface
from neuroconv.tools.nwb_helpers import configure_and_write_nwbfile, get_default_backend_configuration
folder, out, compression = sys.argv[1:4]
interface = SpikeGLXRecordingInterface(folder_path=folder, stream_id="imec0.ap")
metadata = interface.get_metadata()
metadata["NWBFile"]["session_start_time"] = dt.datetime(2026, 1, 15, 10, tzinfo=dt.timezone.utc)
metadata["Subject"] = dict(subject_id="m1", species="Mus musculus", sex="F", age="P90D")
if compression == "gzip":
    interface.run_conversion(nwbfile_path=out, metadata=metadata, overwrite=True)  # its defaults: gzip level 4
else:
    nwbfile = interface.create_nwbfile(metadata=metadata)
    configuration = get_default_backend_configuration(nwbfile, backend="hdf5")
    for dataset in configuration.dataset_configurations.values():
        dataset.compression_method = None
    configure_and_write_nwbfile(nwbfile, nwbfile_path=out, backend_configuration=configuration)
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
    cache: str
    tool: str
    setting: str
    wall_s: float
    mb_per_s: float
    peak_rss_mb: float
    output_mb: float
    walls_s: list[float]


@dataclass(frozen=True)
class Job:
    tool: str
    setting: str
    command: list[str]
    output: Path | None  # None: the command writes nothing (the import floor)


def evict(folder: Path) -> None:
    """Drop every file of `folder` from the page cache (after writing back what is dirty)."""
    os.sync()
    for path in folder.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)


def warm(folder: Path) -> None:
    """Read every file of `folder` so that it sits in the page cache."""
    os.sync()
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as f:
                while f.read(16 << 20):
                    pass


def once(job: Job, cache: str, source: Path) -> tuple[float, float, float]:
    """One run of `job` from the given cache state: (wall s, peak RSS MiB, output MB)."""
    (evict if cache == "cold" else warm)(source)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK, str(job.output or ""), *job.command], capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{job.tool} {job.setting} failed:\n{done.stderr[-3000:]}")
    size = job.output.stat().st_size if job.output else 0
    if job.output:
        job.output.unlink()
    return wall, float(done.stdout.strip().splitlines()[-1]), size / 1e6


def timed(jobs: list[Job], cache: str, source: Path, source_bytes: int, repeat: int) -> list[Run]:
    """`repeat` rounds, each running every job once in turn: the machine's drift over the minutes of a
    benchmark falls on every tool alike instead of on whichever ran last. Median wall time, highest peak RSS."""
    rounds = [[once(job, cache, source) for job in jobs] for _ in range(repeat)]
    runs = []
    for i, job in enumerate(jobs):
        walls = [r[i][0] for r in rounds]
        wall = statistics.median(walls)
        peak, size = max(r[i][1] for r in rounds), rounds[-1][i][2]
        runs.append(Run(cache, job.tool, job.setting, wall, source_bytes / 1e6 / wall, peak, size, walls))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--channels", type=int, default=384)
    parser.add_argument("--neuroconv-python", help="interpreter with neuroconv installed (omit to skip NeuroConv)")
    parser.add_argument("--cache", choices=("warm", "cold", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (median wall time)")
    parser.add_argument("--scratch", type=Path, default=HERE / "workload")
    args = parser.parse_args()

    from nwbconvert.synthetic.spikeglx import write_spikeglx_run

    args.scratch.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=args.scratch))
    try:
        run = write_spikeglx_run(scratch / "source", seconds=args.seconds, n_channels=args.channels)
        source_bytes = run.ap_bin.stat().st_size
        jobs = _jobs(run.folder, run.ap_bin, scratch, args.neuroconv_python)
        caches = ("warm", "cold") if args.cache == "both" else (args.cache,)
        source = scratch / "source"
        runs = [run for cache in caches for run in timed(jobs, cache, source, source_bytes, args.repeat)]
    finally:
        shutil.rmtree(scratch)
    _report(runs, source_bytes, args)


def _jobs(folder: Path, data_file: Path, scratch: Path, neuroconv_python: str | None) -> list[Job]:
    nwbconvert = [sys.executable, "-m", "nwbconvert", "convert", str(folder), "--stream", "imec0.ap", "-q"]
    nwbconvert += ["--overwrite", "--no-validate", *METADATA]
    jobs = [Job("cp", "data file", ["cp", str(data_file), str(scratch / "copy.dat")], scratch / "copy.dat")]
    jobs.append(Job("python", "import pynwb, neo", [sys.executable, "-c", "import pynwb, neo"], None))
    for n in sorted({1, 2, os.cpu_count() or 1}):
        out = scratch / f"nwbconvert_gzip_{n}.nwb"
        jobs.append(Job("nwbconvert", f"gzip 4, {n} core(s)", [*nwbconvert, "-o", str(out), "-j", str(n)], out))
    out = scratch / "nwbconvert_none.nwb"
    jobs.append(Job("nwbconvert", "uncompressed", [*nwbconvert, "-o", str(out), "--compression", "none"], out))
    if neuroconv_python:
        for compression, setting in (("gzip", "defaults (gzip 4)"), ("none", "uncompressed")):
            out = scratch / f"neuroconv_{compression}.nwb"
            command = [neuroconv_python, "-c", NEUROCONV, str(folder), str(out), compression]
            jobs.append(Job("NeuroConv 0.10", setting, command, out))
    return jobs


def _report(runs: list[Run], source_bytes: int, args: argparse.Namespace) -> None:
    print(
        f"workload: SpikeGLX AP, {args.channels} ch x {args.seconds:g} s, {source_bytes / 1e6:.0f} MB int16; "
        f"median of {args.repeat} run(s); every run ends with its output on disk"
    )
    head = f"{'source':<7}{'tool':<16}{'setting':<22}{'wall s':>8}{'MB/s':>8}{'peak MiB':>9}{'out MB':>8}"
    print(head + f"{'NeuroConv/this':>15}{'this/cp':>8}")
    for r in runs:
        cp = next(c for c in runs if c.tool == "cp" and c.cache == r.cache)
        rival = next(
            (n for n in runs if n.tool.startswith("NeuroConv") and n.cache == r.cache and _same_codec(n, r)), None
        )
        speedup = f"{rival.wall_s / r.wall_s:.2f}x" if rival and r.tool == "nwbconvert" else ""
        print(
            f"{r.cache:<7}{r.tool:<16}{r.setting:<22}{r.wall_s:>8.2f}{r.mb_per_s:>8.0f}{r.peak_rss_mb:>9.0f}"
            f"{r.output_mb:>8.0f}{speedup:>15}{r.wall_s / cp.wall_s:>7.2f}x"
        )
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    doc = {
        "channels": args.channels,
        "seconds": args.seconds,
        "repeat": args.repeat,
        "source_mb": source_bytes / 1e6,
        "cpu_count": os.cpu_count(),
        "output_on_disk": True,
    }
    (results / "convert_speed.json").write_text(json.dumps(doc | {"runs": [asdict(r) for r in runs]}, indent=2))


def _same_codec(a: Run, b: Run) -> bool:
    return ("uncompressed" in a.setting) == ("uncompressed" in b.setting)


if __name__ == "__main__":
    main()
