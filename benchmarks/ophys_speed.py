"""Imaging conversion speed and memory side by side: nwbconvert and NeuroConv's TiffImagingInterface, in one run.

    python benchmarks/ophys_speed.py --neuroconv-python /path/to/venv/bin/python   # 512 x 512 x 4000 frames
    python benchmarks/ophys_speed.py --frames 1000 --repeat 1 --neuroconv-python ...  # any length

The workload is a 512 x 512 uint16 movie of N frames (N x 0.52 MB: 4000 frames = 2.1 GB) written with tifffile
one page at a time (the generator's memory stays bounded), in two kinds:
  plain    a multi-page TIFF whose pages are contiguous and uncompressed, as ScanImage or a camera writes them
           (memory-mappable: `tifffile.memmap` opens it);
  deflate  the same frames with deflate-compressed pages (zlib, `--source-level`), which cannot be memory-mapped.
Each is converted to a gzip level 4 TwoPhotonSeries by nwbconvert (`--jobs 1` and `--jobs 2`, and every core)
and by NeuroConv 0.10.2 (its TiffImagingInterface with its defaults: gzip level 4, its chunking; install it in
its own venv with `pip install 'neuroconv[tiff]==0.10.2'`). `cp` copies the TIFF, the disk's floor. nwbconvert
also converts a movie twice as long (2N frames), to show its peak RSS does not grow with the movie's length.

Every run is its own process, timed until its output is on disk (nwbconvert fsyncs before renaming; `cp` and
NeuroConv are followed by an fsync inside the timing), with the source in the page cache (read just before).
Peak RSS is the converter process's ru_maxrss; CPU s is its user + system time. `--repeat` rounds run every
command once in turn (median wall time, highest peak RSS), so a shared machine's drift falls on all alike.
Every output is read back with h5py: its TwoPhotonSeries data must be (frame, x, y) = the TIFF pages transposed,
on sampled frames. Throughput is the movie's raw size (frames x 512 x 512 x 2 bytes) over wall time. The table
is printed and written as JSON (`--json`, default benchmarks/results/ophys_speed.json), with the load average.
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
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
HEIGHT = WIDTH = 512
RATE_HZ = 30.0
RSS_TARGET_MIB = 300.0
SPEEDUP_TARGET = 2.0
# Runs argv[2:], then fsyncs the output argv[1] inside the timing; prints the child's peak RSS and CPU time.
PEAK = """
import os, resource, subprocess, sys
code = subprocess.run(sys.argv[2:]).returncode
if code == 0 and os.path.isfile(sys.argv[1]):
    fd = os.open(sys.argv[1], os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime)
sys.exit(code)
"""
NEUROCONV = """
import sys, datetime as dt
from neuroconv.datainterfaces import TiffImagingInterface
path, out, rate = sys.argv[1], sys.argv[2], float(sys.argv[3])
interface = TiffImagingInterface(file_paths=[path], sampling_frequency=rate)
metadata = interface.get_metadata()
metadata["NWBFile"]["session_start_time"] = dt.datetime(2026, 1, 15, 10, tzinfo=dt.timezone.utc)
metadata["Subject"] = dict(subject_id="m1", species="Mus musculus", sex="F", age="P90D")
metadata["Devices"] = {"scope": {"name": "Microscope"}}
channel = dict(name="Green", description="GCaMP emission", emission_lambda=510.0)
metadata["Ophys"]["ImagingPlanes"] = {
    "plane": dict(name="ImagingPlane", excitation_lambda=920.0, indicator="GCaMP6f", location="VISp",
                  device_metadata_key="scope", optical_channel=[channel])
}
metadata["Ophys"]["MicroscopySeries"]["tiff_imaging"].update(name="TwoPhotonSeries", imaging_plane_metadata_key="plane")
interface.run_conversion(nwbfile_path=out, metadata=metadata, overwrite=True)  # its defaults: gzip level 4
"""
METADATA = [
    "--set=ophys.indicator=GCaMP6f",
    "--set=ophys.location=VISp",
    "--set=ophys.excitation_lambda=920",
    "--set=ophys.emission_lambda=510",
    f"--set=ophys.rate={RATE_HZ:g}",
    "--set=session_start_time=2026-01-15T10:00:00+00:00",
    "--set=subject.subject_id=m1",
    "--set=subject.species=Mus musculus",
    "--set=subject.sex=F",
    "--set=subject.age=P90D",
]


@dataclass(frozen=True)
class Job:
    tool: str
    setting: str
    command: list[str]
    output: Path


@dataclass
class Run:
    kind: str
    frames: int
    tool: str
    setting: str
    wall_s: float
    mb_per_s: float
    peak_rss_mib: float
    cpu_s: float
    output_mb: float
    read_back: str  # "identical", "differs: ..." or "" (cp)
    chunks: list[int] | None
    walls_s: list[float] = field(default_factory=list)
    load_1min: list[float] = field(default_factory=list)


def movie_frames(n: int, seed: int = 0) -> Iterator[np.ndarray]:
    """`n` deterministic (height, width) uint16 frames: ~200 cell-like blobs on a background, shot noise."""
    rng = np.random.default_rng(seed)
    base = np.full((HEIGHT, WIDTH), 300.0)
    yy, xx = np.mgrid[-12:13, -12:13]
    for _ in range(200):
        y, x = rng.integers(12, HEIGHT - 12), rng.integers(12, WIDTH - 12)
        radius, peak = rng.uniform(3, 7), rng.uniform(200, 1500)
        base[y - 12 : y + 13, x - 12 : x + 13] += peak * np.exp(-(yy**2 + xx**2) / (2 * radius**2))
    base32 = base.astype(np.int32)
    noise = rng.normal(0, 30, (17, HEIGHT, WIDTH)).astype(np.int32)
    for i in range(n):
        frame = base32 + np.roll(noise[i % 17], (i * 37) % HEIGHT, axis=0)
        yield np.clip(frame, 0, 65535).astype(np.uint16)


def write_movie(path: Path, n: int, kind: str, level: int) -> Path:
    """Write `n` frames as a BigTIFF page by page: contiguous and uncompressed (plain) or deflate-compressed."""
    import tifffile

    compressed = dict(compression="zlib", compressionargs={"level": level}, rowsperstrip=64, maxworkers=2)
    options = compressed if kind == "deflate" else dict(contiguous=True)
    with tifffile.TiffWriter(path, bigtiff=True) as tif:
        tif.write(movie_frames(n), shape=(n, HEIGHT, WIDTH), dtype=np.uint16, photometric="minisblack", **options)
    if kind == "plain":
        assert tifffile.memmap(path).shape == (n, HEIGHT, WIDTH)
    return path


def read_back(nwb: Path, tiff: Path, n: int) -> tuple[str, list[int] | None]:
    """Compare the file's TwoPhotonSeries data with the TIFF pages transposed to (x, y), on ~20 sampled frames."""
    import h5py
    import tifffile

    with h5py.File(nwb, "r") as f:
        found = [s for s in f["acquisition"].values() if s.attrs.get("neurodata_type") == "TwoPhotonSeries"]
        if len(found) != 1:
            return f"differs: {len(found)} TwoPhotonSeries", None
        data = found[0]["data"]
        chunks = list(data.chunks) if data.chunks else None
        if data.shape != (n, WIDTH, HEIGHT) or data.dtype != np.uint16:
            return f"differs: {data.shape} {data.dtype}", chunks
        picks = sorted({0, n - 1, *range(0, n, max(1, n // 18))})
        with tifffile.TiffFile(tiff) as tif:
            for i in picks:
                if not np.array_equal(data[i], tif.pages[i].asarray().T):
                    return f"differs: frame {i}", chunks
    return "identical", chunks


def warm(path: Path) -> None:
    """Read `path` so that it sits in the page cache."""
    with path.open("rb") as f:
        while f.read(16 << 20):
            pass


def once(job: Job, source: Path, n: int) -> tuple[float, float, float, float, str, list[int] | None, float]:
    """One run: (wall s, peak RSS MiB, CPU s, output MB, read-back, chunks, 1-min load average at its start)."""
    warm(source)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, str(job.output), *job.command], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{job.tool} {job.setting} failed:\n{done.stderr[-3000:]}")
    peak, cpu = (float(v) for v in done.stdout.strip().splitlines()[-1].split())
    check, chunks = ("", None) if job.tool == "cp" else read_back(job.output, source, n)
    size = job.output.stat().st_size / 1e6
    job.output.unlink()
    return wall, peak, cpu, size, check, chunks, load


def timed(jobs: list[Job], kind: str, source: Path, n: int, repeat: int) -> list[Run]:
    """`repeat` rounds, each running every job once in turn. Median wall time, highest peak RSS."""
    rounds = [[once(job, source, n) for job in jobs] for _ in range(repeat)]
    runs = []
    for i, job in enumerate(jobs):
        results = [r[i] for r in rounds]
        walls = [r[0] for r in results]
        wall = statistics.median(walls)
        checks = {r[4] for r in results}
        check = "identical" if checks == {"identical"} else "; ".join(sorted(c for c in checks if c != "identical"))
        peak, cpu = max(r[1] for r in results), statistics.median(r[2] for r in results)
        movie_mb = n * HEIGHT * WIDTH * 2 / 1e6
        runs.append(
            Run(kind, n, job.tool, job.setting, wall, movie_mb / wall, peak, cpu, results[-1][3], check,
                results[-1][5], walls, [r[6] for r in results])
        )  # fmt: skip
    return runs


def jobs_for(source: Path, scratch: Path, cores: list[int], neuroconv: str | None, long: bool) -> list[Job]:
    """nwbconvert at each core count (and, unless `long`, `cp` and NeuroConv) on one TIFF."""
    base = [sys.executable, "-m", "nwbconvert", "convert", str(source), "-q", "--overwrite", "--no-validate"]
    jobs = [] if long else [Job("cp", "the TIFF", ["cp", str(source), str(scratch / "copy.tif")], scratch / "copy.tif")]
    for n in cores:
        out = scratch / f"nwbconvert_{n}.nwb"
        setting = f"gzip 4, --jobs {n}"
        jobs.append(Job("nwbconvert", setting, [*base, *METADATA, "-o", str(out), "--jobs", str(n)], out))
    if neuroconv and not long:
        out = scratch / "neuroconv.nwb"
        command = [neuroconv, "-c", NEUROCONV, str(source), str(out), f"{RATE_HZ:g}"]
        jobs.append(Job("NeuroConv 0.10", "defaults (gzip 4)", command, out))
    return jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=4000, help="frames of the movie (nwbconvert also does 2x)")
    parser.add_argument("--neuroconv-python", help="interpreter with neuroconv installed (omit to skip NeuroConv)")
    parser.add_argument("--kinds", nargs="+", choices=("plain", "deflate"), default=["plain", "deflate"])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each command (median wall time)")
    parser.add_argument("--source-level", type=int, default=6, help="zlib level of the deflate TIFF's pages")
    parser.add_argument("--no-long", action="store_true", help="skip the movie of twice as many frames")
    parser.add_argument("--scratch", type=Path, default=HERE / "workload")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "ophys_speed.json", help="where the JSON goes")
    args = parser.parse_args()
    cores = sorted({1, 2, os.cpu_count() or 1})
    args.scratch.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=args.scratch))
    load_before, runs, sources = os.getloadavg(), [], {}
    try:
        for kind in args.kinds:
            for n, long in ((args.frames, False), (2 * args.frames, True))[: 1 if args.no_long else 2]:
                started = time.perf_counter()
                source = write_movie(scratch / f"{kind}_{n}.tif", n, kind, args.source_level)
                sources[f"{kind}_{n}"] = {
                    "file_mb": source.stat().st_size / 1e6,
                    "write_s": time.perf_counter() - started,
                }
                print(f"wrote {source.name}: {sources[f'{kind}_{n}']['file_mb']:.0f} MB", file=sys.stderr)
                runs += timed(
                    jobs_for(source, scratch, cores, args.neuroconv_python, long), kind, source, n, args.repeat
                )
                source.unlink()
    finally:
        shutil.rmtree(scratch)
    report(runs, sources, args, [load_before, os.getloadavg()])


def targets(runs: list[Run], frames: int) -> dict[str, object]:
    """The issue's targets, each with the measured values: speed-up on 2 cores, growth with --jobs, RSS, read-back."""
    out: dict[str, object] = {}
    for kind in sorted({r.kind for r in runs}):
        mine = {r.setting: r for r in runs if r.kind == kind and r.tool == "nwbconvert" and r.frames == frames}
        rival = next((r for r in runs if r.kind == kind and r.tool.startswith("NeuroConv")), None)
        two, one = mine.get("gzip 4, --jobs 2"), mine.get("gzip 4, --jobs 1")
        if rival and two:
            out[f"{kind}: throughput 2 cores / NeuroConv >= {SPEEDUP_TARGET:g}"] = round(rival.wall_s / two.wall_s, 2)
        if one and two:
            out[f"{kind}: throughput --jobs 2 / --jobs 1 > 1"] = round(one.wall_s / two.wall_s, 2)
        if rival and one:
            out[f"{kind}: CPU s NeuroConv / nwbconvert --jobs 1 (not a target)"] = round(rival.cpu_s / one.cpu_s, 2)
        peaks = [r.peak_rss_mib for r in runs if r.kind == kind and r.tool == "nwbconvert"]
        out[f"{kind}: nwbconvert peak RSS MiB (N and 2N frames) <= {RSS_TARGET_MIB:g}"] = max(peaks)
    out["read-back identical (every output)"] = all(r.read_back == "identical" for r in runs if r.tool != "cp")
    return out


def report(runs: list[Run], sources: dict, args: argparse.Namespace, loads: list[tuple[float, ...]]) -> None:
    print(f"workload: 512 x 512 uint16 movie, {args.frames} frames ({args.frames * HEIGHT * WIDTH * 2 / 1e6:.0f} MB)")
    print(f"{'kind':<8}{'frames':>7} {'tool':<15}{'setting':<19}{'wall s':>8}{'MB/s':>7}{'peak MiB':>9}", end="")
    print(f"{'CPU s':>7}{'out MB':>7}{'NeuroConv/this':>15}{'this/cp':>8}  read-back")
    for r in runs:
        cp = next(c for c in runs if c.tool == "cp" and c.kind == r.kind)
        rival = next((c for c in runs if c.tool.startswith("NeuroConv") and c.kind == r.kind), None)
        same = rival is not None and r.tool == "nwbconvert" and r.frames == rival.frames
        speedup = f"{rival.wall_s / r.wall_s:.2f}x" if rival is not None and same else ""
        ratio = f"{r.wall_s / cp.wall_s:.2f}x" if r.frames == cp.frames else ""
        print(
            f"{r.kind:<8}{r.frames:>7} {r.tool:<15}{r.setting:<19}{r.wall_s:>8.2f}{r.mb_per_s:>7.0f}"
            f"{r.peak_rss_mib:>9.0f}{r.cpu_s:>7.1f}{r.output_mb:>7.0f}{speedup:>15}{ratio:>8}  {r.read_back}"
        )
    goals = targets(runs, args.frames)
    for goal, value in goals.items():
        print(f"target {goal}: {value}")
    print(f"load average (1, 5, 15 min) before {loads[0]}, after {loads[1]}; {os.cpu_count()} cores")
    doc = {
        "frames": args.frames,
        "frame_shape": [HEIGHT, WIDTH],
        "dtype": "uint16",
        "movie_mb": args.frames * HEIGHT * WIDTH * 2 / 1e6,
        "source_level": args.source_level,
        "repeat": args.repeat,
        "cpu_count": os.cpu_count(),
        "load_average_before_after": loads,
        "sources": sources,
        "targets": goals,
        "runs": [asdict(r) for r in runs],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
