"""Peak memory of `nwbconvert convert` for recordings of growing length (it must not grow with them).

    python benchmarks/convert_memory.py                    # 384-channel SpikeGLX runs of 60 s and 240 s
    python benchmarks/convert_memory.py --seconds 30 90 --channels 96   # any lengths and widths

Each conversion runs in its own process with the defaults (gzip on every core, the output validated);
peak RSS is that process's VmHWM (Linux; else ru_maxrss), in MiB. The table is printed and written as JSON to
benchmarks/results/convert_memory.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MEASURE = """
import resource, sys
from nwbconvert.cli.app import app  # not cli.main: that leaves with os._exit, skipping the measurement
sys.argv = ["nwbconvert", *sys.argv[1:]]
try:
    app()
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
try:  # VmHWM: this process's own peak (ru_maxrss also counts the parent's size when it forked us)
    status = open("/proc/self/status").read().split("VmHWM:")[1]
    print(int(status.split()[0]) // 1024)
except (OSError, IndexError):
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""
METADATA = [
    "--set=session_start_time=2026-01-15T10:00:00+00:00",
    "--set=subject.subject_id=m1",
    "--set=subject.species=Mus musculus",
    "--set=subject.sex=F",
    "--set=subject.age=P90D",
]


def measure(seconds: float, channels: int, scratch: Path) -> dict[str, float]:
    from nwbconvert.synthetic.spikeglx import write_spikeglx_run

    run = write_spikeglx_run(scratch / f"run_{seconds:g}", seconds=seconds, n_channels=channels)
    source_bytes = sum(p.stat().st_size for p in run.folder.rglob("*.bin"))
    out = scratch / f"out_{seconds:g}.nwb"
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, "convert", str(run.folder), "-o", str(out), "-q", *METADATA],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    shutil.rmtree(run.folder)
    return {
        "seconds": seconds,
        "source_mb": source_bytes / 1e6,
        "peak_rss_mib": float(result.stdout.strip().splitlines()[-1]),
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, nargs="+", default=[60.0, 240.0])
    parser.add_argument("--channels", type=int, default=384)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=HERE) as tmp:
        rows = [measure(s, args.channels, Path(tmp)) for s in args.seconds]
    print(f"{'length (s)':>10} {'source (MB)':>12} {'peak RSS (MiB)':>15} {'wall (s)':>9}")
    for r in rows:
        print(f"{r['seconds']:>10g} {r['source_mb']:>12.0f} {r['peak_rss_mib']:>15.0f} {r['wall_s']:>9.1f}")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "convert_memory.json").write_text(json.dumps({"channels": args.channels, "runs": rows}, indent=2))


if __name__ == "__main__":
    main()
