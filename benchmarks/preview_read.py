"""What `nwbconvert preview` reads of a large file, and how long it takes: bytes, seconds, peak memory.

    python benchmarks/preview_read.py                  # the 384 ch x 60 s SpikeGLX AP recording (1.4 GB of samples)
    python benchmarks/preview_read.py --seconds 10     # a shorter one, for a quick look

The workload is validate_speed.py's large file: a SpikeGLX run (Neuropixels 1.0 AP band, 384 channels, 30 kHz,
int16) written by `nwbconvert.synthetic.spikeglx` and converted with nwbconvert's defaults (gzip, ~10 MB chunks);
it goes to benchmarks/workload/ (reused when present). Each run is its own process:
  counted  h5py reads the file through a file object that counts the bytes it is asked for (what preview reads,
           exactly, whatever the page cache holds);
  cold     the file is evicted from the page cache first; /proc/self/io's read_bytes is what came from the disk;
  cli      `nwbconvert preview FILE -o ...` as a user runs it, with the validation findings (warm cache).
The figures-only runs pass --no-validate (validation reads what NWB Inspector reads; `benchmarks/validate_speed.py`
measures it). Results: printed and written to benchmarks/results/preview_read.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# Runs the report of argv[1] into argv[2] in this process (counting the bytes h5py reads when argv[3] is "counted")
# and prints what it measured as JSON.
CHILD = """
import io, json, resource, sys, time
from pathlib import Path
started = time.perf_counter()
from nwbconvert.preview.report import PreviewOptions, build, write
import pynwb, matplotlib.backends.backend_agg  # what any reader pays first, timed apart
imported = time.perf_counter()

class Counting(io.RawIOBase):
    def __init__(self, path):
        self.file, self.bytes_read, self.reads = open(path, "rb"), 0, 0
    def readable(self): return True
    def seekable(self): return True
    def seek(self, offset, whence=0): return self.file.seek(offset, whence)
    def tell(self): return self.file.tell()
    def readinto(self, buffer):
        n = self.file.readinto(buffer) or 0
        self.bytes_read += n
        self.reads += 1
        return n

def disk_bytes():
    return int(next(l for l in open("/proc/self/io") if l.startswith("read_bytes")).split()[1])

path, out, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
before = disk_bytes()
fileobj = Counting(path) if mode == "counted" else None
report = build(path, PreviewOptions(validate=False), fileobj=fileobj)
write(report, out)
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({
    "seconds": time.perf_counter() - started,
    "import_seconds": imported - started,
    "build_seconds": report.seconds,
    "bytes_counted": fileobj.bytes_read if fileobj else None,
    "reads": fileobj.reads if fileobj else None,
    "disk_read_bytes": disk_bytes() - before,
    "cpu_seconds": usage.ru_utime + usage.ru_stime,
    "peak_rss_mib": usage.ru_maxrss / 1024,
    "figures": [f.title for f in report.figures],
}))
"""


def evict(path: Path) -> None:
    os.sync()
    fd = os.open(path, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)


def child(nwb: Path, out: Path, mode: str) -> dict[str, object]:
    if mode == "cold":
        evict(nwb)
    done = subprocess.run([sys.executable, "-c", CHILD, str(nwb), str(out), mode], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"preview failed:\n{done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def cli(nwb: Path, out: Path) -> dict[str, float]:
    started = time.perf_counter()
    command = [str(Path(sys.executable).parent / "nwbconvert"), "preview", str(nwb), "-o", str(out)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": time.perf_counter() - started, "peak_rss_mib_any_child": peak}


def main() -> None:
    from validate_speed import large_file

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the 384-channel recording")
    parser.add_argument("--workload", type=Path, default=HERE / "workload", help="where the workload is kept")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind (the median is reported)")
    args = parser.parse_args()
    args.workload.mkdir(parents=True, exist_ok=True)
    nwb = large_file(args.workload, args.seconds)
    out = args.workload / "preview_read.html"
    runs = {mode: [child(nwb, out, mode) for _ in range(args.repeat)] for mode in ("counted", "cold")}
    with_validation = [cli(nwb, out) for _ in range(args.repeat)]
    size = nwb.stat().st_size
    samples = int(args.seconds * 30000) * 384 * 2
    doc = {
        "file": nwb.name,
        "file_bytes": size,
        "sample_bytes": samples,
        "median": {mode: _median(r) for mode, r in runs.items()},
        "load_average_1min": os.getloadavg()[0],  # the machine is shared: a load above its 2 cores slows every run
        "cli_with_validation_seconds": sorted(r["seconds"] for r in with_validation)[len(with_validation) // 2],
        "runs": runs,
    }
    counted = doc["median"]["counted"]  # type: ignore[index]
    cold = doc["median"]["cold"]  # type: ignore[index]
    print(f"{nwb.name}: {size / 1e6:.0f} MB on disk ({samples / 1e9:.2f} GB of samples)")
    print(
        f"  counted: {counted['bytes_counted'] / 1e6:.1f} MB read ({100 * counted['bytes_counted'] / size:.1f} %), "
        f"{counted['seconds']:.2f} s, peak RSS {counted['peak_rss_mib']:.0f} MiB"
    )
    print(f"  cold:    {cold['disk_read_bytes'] / 1e6:.1f} MB from disk, {cold['seconds']:.2f} s")
    print(f"  cli (with validation): {doc['cli_with_validation_seconds']:.2f} s")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "preview_read.json").write_text(json.dumps(doc, indent=2))


def _median(runs: list[dict[str, object]]) -> dict[str, object]:
    keys = (
        "seconds",
        "cpu_seconds",
        "import_seconds",
        "build_seconds",
        "bytes_counted",
        "reads",
        "disk_read_bytes",
        "peak_rss_mib",
    )
    middle: dict[str, object] = {}
    for key in keys:
        values = sorted(float(r[key]) for r in runs if r.get(key) is not None)  # type: ignore[arg-type]
        middle[key] = values[len(values) // 2] if values else None
    return middle


if __name__ == "__main__":
    main()
