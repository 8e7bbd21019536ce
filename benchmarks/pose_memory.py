"""Peak memory of converting long DeepLabCut pose tables (it must not grow with them).

    python benchmarks/pose_memory.py                       # 15 min and 1 hour at 100 fps, 20 keypoints
    python benchmarks/pose_memory.py --frames 36000 --keypoints 10

Each table is written as DeepLabCut writes its predictions (pandas `to_hdf(format="table")`, key
`df_with_missing`, columns scorer / bodyparts / coords) in a temporary folder, with no video beside it, and
converted by `nwbconvert convert FILE.h5 -o OUT.nwb --set pose.rate=100` in its own process (defaults: gzip, the
output validated). Peak RSS is that process's VmHWM (Linux; else ru_maxrss), in MiB. The reference is what reading
the same table whole with pandas costs (`pandas.read_hdf`, then the values as one float64 array), the way a
converter that loads the table does. Whether NeuroConv's DeepLabCutInterface could be run instead (the bench venv,
/tmp/benchvenv or --rival-python, needs ndx-pose and PyTables) is recorded beside the results, in
benchmarks/results/pose_memory.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCORER = "DLC_resnet50_benchShuffle1_100000"
PEAK = """
try:  # VmHWM: this process's own peak (ru_maxrss also counts the parent's size when it forked us)
    print(int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) // 1024)
except (OSError, IndexError):
    import resource
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""
CONVERT = (
    """
import sys
from nwbconvert.cli.app import app  # not cli.main: that leaves with os._exit, skipping the measurement
sys.argv = ["nwbconvert", *sys.argv[1:]]
try:
    app()
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
"""
    + PEAK
)
WHOLE = (
    """
import sys, pandas as pd
values = pd.read_hdf(sys.argv[1], "df_with_missing").to_numpy(dtype="float64")
assert values.shape[0] > 0
"""
    + PEAK
)
METADATA = [
    "--set=session_start_time=2026-01-15T10:00:00+00:00",
    "--set=subject.subject_id=m1",
    "--set=subject.species=Mus musculus",
    "--set=subject.sex=F",
    "--set=subject.age=P90D",
]


def write_table(path: Path, frames: int, keypoints: int, block: int = 50_000) -> None:
    """A DeepLabCut prediction .h5 of `frames` rows, appended block by block (the generator stays small)."""
    import numpy as np
    import pandas as pd

    columns = pd.MultiIndex.from_product(
        [[SCORER], [f"part{k}" for k in range(keypoints)], ["x", "y", "likelihood"]],
        names=["scorer", "bodyparts", "coords"],
    )
    rng = np.random.default_rng(0)
    with pd.HDFStore(path, mode="w") as store:
        for start in range(0, frames, block):
            n = min(block, frames - start)
            values = rng.uniform(0, 640, (n, keypoints, 3))
            values[..., 2] /= 640
            frame = pd.DataFrame(values.reshape(n, -1), columns=columns, index=np.arange(start, start + n))
            store.append("df_with_missing", frame, format="table")


def peak(python: str, script: str, *args: str) -> tuple[float, float]:
    """(peak RSS in MiB, wall seconds) of `script` run in its own process."""
    started = time.perf_counter()
    done = subprocess.run([python, "-c", script, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{script.splitlines()[1]} failed:\n{done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1]), time.perf_counter() - started


def rival_status(python: str) -> str:
    """Whether NeuroConv's DeepLabCutInterface can run in `python` (it needs ndx-pose and PyTables)."""
    if not Path(python).exists():
        return f"{python} not found"
    probe = "import neuroconv, ndx_pose, tables; from neuroconv.datainterfaces import DeepLabCutInterface"
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True)
    if done.returncode == 0:
        return "available"
    return "not runnable: " + (done.stderr.strip().splitlines() or ["?"])[-1]


def measure(frames: int, keypoints: int, rate: float, scratch: Path) -> dict[str, float]:
    source = scratch / f"bench{frames}{SCORER}.h5"
    write_table(source, frames, keypoints)
    out = scratch / f"bench{frames}.nwb"
    args = ("convert", str(source), "-o", str(out), "-q", f"--set=pose.rate={rate:g}", *METADATA)
    rss, wall = peak(sys.executable, CONVERT, *args)
    whole_rss, whole_wall = peak(sys.executable, WHOLE, str(source))
    row = {
        "frames": frames,
        "keypoints": keypoints,
        "table_mib": frames * keypoints * 3 * 8 / 2**20,
        "source_mib": source.stat().st_size / 2**20,
        "output_mib": out.stat().st_size / 2**20,
        "peak_rss_mib": rss,
        "wall_s": wall,
        "pandas_whole_peak_rss_mib": whole_rss,
        "pandas_whole_wall_s": whole_wall,
    }
    source.unlink()
    out.unlink()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[90_000, 360_000])
    parser.add_argument("--keypoints", type=int, default=20)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--rival-python", default="/tmp/benchvenv/bin/python")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=HERE) as tmp:
        rows = [measure(n, args.keypoints, args.rate, Path(tmp)) for n in args.frames]
    print(f"{'frames':>8} {'table MiB':>10} {'peak RSS MiB':>13} {'wall s':>7} {'pandas whole MiB':>17} {'ratio':>6}")
    for r in rows:
        ratio = r["pandas_whole_peak_rss_mib"] / r["peak_rss_mib"]
        print(
            f"{r['frames']:>8} {r['table_mib']:>10.0f} {r['peak_rss_mib']:>13.0f} {r['wall_s']:>7.1f} "
            f"{r['pandas_whole_peak_rss_mib']:>17.0f} {ratio:>6.2f}"
        )
    doc = {
        "command": "python benchmarks/pose_memory.py " + " ".join(sys.argv[1:]),
        "rate_hz": args.rate,
        "rows": rows,
        "neuroconv": rival_status(args.rival_python),
        "reference": "pandas.read_hdf of the whole table, then .to_numpy(float64), in its own process",
    }
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "pose_memory.json").write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
