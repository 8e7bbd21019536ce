"""What a small ABF session's conversion and check cannot go below: pynwb's write of the file and hdmf's read,
validation and construction and NWB Inspector's checks of it, in one warm process, against the time that "4 x a
NeuroConv AbfInterface loop" leaves each session on 2 cores, timed in the same run.

    python benchmarks/batch_floor.py --neuroconv-python /tmp/benchvenv/bin/python

The real ABF file is converted `--sessions` times in this process by nwbconvert's pipeline (`convert`, unchecked);
pynwb's write of each file (`NWBHDF5IO.write`, as nwbconvert calls it) is timed, then each written file's floor
parts (benchmarks/small_file_floor.py) and the whole `check_file`. NeuroConv's loop converts the same number of
sessions in its own venv (its imports not timed). A batch with `-j 2` shares its sessions between two processes,
so each session may take 2 x (NeuroConv's time per session) / 4 of one core; the floor is what pynwb, hdmf and NWB
Inspector alone take of it. Medians. Results: benchmarks/results/batch_floor.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

from small_file_floor import PARTS, timed_parts
from small_files import ABF, METADATA, batch_study, neuroconv_loop

HERE = Path(__file__).resolve().parent
WORKLOAD = HERE / "workload" / "batch_floor"


def converted(sessions: int) -> tuple[list[Path], list[float]]:
    """`sessions` conversions of the ABF file, and the seconds of pynwb's write of each."""
    from nwbconvert.options import ConvertOptions
    from nwbconvert.pipeline import convert
    from nwbconvert.writer import hdf5

    writes: list[float] = []
    write = hdf5.write_hdf5

    def timed_write(nwbfile: Any, path: Path, mode: str = "w") -> None:
        started = time.perf_counter()
        write(nwbfile, path, mode)
        writes.append(time.perf_counter() - started)

    hdf5.write_hdf5 = timed_write  # the backend imports it at each write
    sets = tuple(m.removeprefix("--set=") for m in METADATA)
    options = ConvertOptions(set_values=sets, overwrite=True, validate=False)
    out = WORKLOAD / "files"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    convert(ABF, out / "warm.nwb", options)  # imports, object mappers
    writes.clear()
    paths = [out / f"{i:03d}.nwb" for i in range(sessions)]
    for path in paths:
        convert(ABF, path, options)
    hdf5.write_hdf5 = write
    return paths, writes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=40, help="ABF sessions converted and checked")
    parser.add_argument("--neuroconv-python", help="a Python with neuroconv installed (its own venv)")
    args = parser.parse_args()
    from nwbconvert.validate.runner import warm_up

    warm_up()
    warnings.simplefilter("ignore")
    paths, writes = converted(args.sessions)
    timed_parts(paths[0])  # warm the check's side
    parts = [timed_parts(path) for path in paths]
    row = {"pynwb write": statistics.median(writes)}
    row |= {part: statistics.median(p[i] for p in parts) for i, part in enumerate(PARTS)}
    floor = row["pynwb write"] + sum(row[part] for part in PARTS[:-1])
    doc: dict[str, Any] = {"sessions": args.sessions, "per_session_seconds": row, "floor_per_session_s": floor}
    for name, seconds in row.items():
        print(f"  {name:30s} {1000 * seconds:8.1f} ms")
    print(f"  {'floor (write + check parts)':30s} {1000 * floor:8.1f} ms per session")
    if args.neuroconv_python:
        study = batch_study(WORKLOAD, args.sessions)
        per_session = neuroconv_loop(args.neuroconv_python, study, WORKLOAD / "nc_out") / args.sessions
        allowed = 2 * per_session / 4
        doc |= {"neuroconv_per_session_s": per_session, "allowed_per_session_core_s": allowed}
        print(f"  NeuroConv AbfInterface loop: {1000 * per_session:.1f} ms per session (1 core)")
        print(f"  4 x NeuroConv on 2 cores leaves {1000 * allowed:.1f} ms per session of a core")
        write_share = row["pynwb write"] / allowed
        print(f"  floor / allowed: {floor / allowed:.2f}; pynwb's write alone / allowed: {write_share:.2f}")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "batch_floor.json").write_text(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
