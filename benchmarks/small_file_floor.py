"""What a small file's check cannot go below: hdmf's read, validation and construction and NWB Inspector's checks,
timed alone per file type, against the whole `check_file`, in one warm process.

    python benchmarks/small_file_floor.py          # after benchmarks/small_files.py has made its workload

Each file type's first files of benchmarks/workload/small_files/validate/ are opened with one `NWBHDF5IO`, as the
check opens them (validate/opened.py): the builder read, then validated with pynwb's validator maps, then built
into an NWBFile, which NWB Inspector inspects with DANDI's configuration. Medians of `--runs` passes. The floor of
the 200-file set is its 199 converted files' hdmf + NWB Inspector time spread over 2 cores (the real DANDI file
left out), before any import, DANDI check or walk, and with one process running (two running at once each take
longer). The time the issue allows is a fifth of the baseline's `validate DIR -j 2`: timed in the same run with
`--baseline-src` (src/ of a checkout of 31f3048), else read from small_files.json (another run: the machine's speed
varies by 15-30%). Results: benchmarks/results/small_file_floor.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FOLDER = HERE / "workload" / "small_files" / "validate"
KINDS = ("abf", "edf", "brainvision", "spikeglx")
PARTS = ("open and read builder", "validate", "construct", "NWB Inspector", "check_file")


def timed_parts(path: Path) -> list[float]:
    """Seconds of each of PARTS for one file."""
    from hdmf.build import BuildManager
    from nwbinspector import inspect_nwbfile_object, load_config
    from pynwb import NWBHDF5IO

    from nwbconvert.validate.checker import check_file

    specs = _specs(path)
    marks = [time.perf_counter()]
    io = NWBHDF5IO(str(path), mode="r", manager=BuildManager(specs.type_map))
    builder = io.read_builder()
    marks.append(time.perf_counter())
    [error for validator in specs.validators for error in validator.validate(builder)]
    marks.append(time.perf_counter())
    nwbfile = io.read()
    marks.append(time.perf_counter())
    list(inspect_nwbfile_object(nwbfile, config=load_config("dandi")))
    marks.append(time.perf_counter())
    io.close()
    started = time.perf_counter()
    check_file(path)
    return [b - a for a, b in itertools.pairwise(marks)] + [time.perf_counter() - started]


_SPECS: dict[str, Any] = {}  # by the digest of a file's cached specs: validators built once, outside the timing


def _specs(path: Path) -> Any:
    from nwbconvert.validate.opened import cached_specs, installed_specs, spec_digest

    texts = cached_specs(path) or {}
    digest = spec_digest(texts)
    if digest not in _SPECS:
        _SPECS[digest] = installed_specs(texts)
    if _SPECS[digest] is None:
        raise SystemExit(f"{path} does not cache this installation's specs: convert the workload again")
    return _SPECS[digest]


def per_kind(runs: int, files: int) -> dict[str, dict[str, float]]:
    from nwbconvert.validate.runner import warm_up

    warm_up()
    table: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        paths = sorted(FOLDER.glob(f"{kind}_*.nwb"))[:files]
        for path in paths:
            timed_parts(path)  # warm: object mappers built, files in the page cache
        samples = [timed_parts(path) for _ in range(runs) for path in paths]
        table[kind] = {part: statistics.median(s[i] for s in samples) for i, part in enumerate(PARTS)}
    return table


def target(baseline_src: Path | None) -> float | None:
    """A fifth of the baseline's `validate DIR -j 2`, timed now with `baseline_src`, else from small_files.json."""
    if baseline_src is not None:
        from small_files import timed  # benchmarks/ is on the path when this script runs

        env = dict(os.environ, PYTHONPATH=str(baseline_src))
        return timed([sys.executable, "-m", "nwbconvert", "validate", str(FOLDER), "-j", "2"], env) / 5
    results = HERE / "results" / "small_files.json"
    if not results.exists():
        return None
    seconds: dict[str, Any] = json.loads(results.read_text())["seconds"]
    baseline = seconds.get("validate: baseline nwbconvert -j 2")
    return None if baseline is None else baseline / 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="passes over each file type's files")
    parser.add_argument("--files", type=int, default=10, help="files of each type timed")
    parser.add_argument("--baseline-src", type=Path, help="src/ of a checkout of 31f3048, timed in this run")
    args = parser.parse_args()
    if not FOLDER.exists():
        raise SystemExit(f"No workload at {FOLDER}: run benchmarks/small_files.py first.")
    allowed = target(args.baseline_src)
    warnings.simplefilter("ignore")
    table = per_kind(args.runs, args.files)
    counts = {kind: len(list(FOLDER.glob(f"{kind}_*.nwb"))) for kind in KINDS}
    floor = sum(counts[kind] * sum(row[part] for part in PARTS[:-1]) for kind, row in table.items()) / 2
    print(f"{'file':12s} " + " ".join(f"{part:>22s}" for part in PARTS))
    for kind, row in table.items():
        print(f"{kind:12s} " + " ".join(f"{row[part]:21.3f}s" for part in PARTS))
    print(f"hdmf + NWB Inspector for the {sum(counts.values())} converted files, over 2 cores: {floor:.1f} s")
    if allowed is not None:
        print(f"time allowed (5 x faster than the baseline): {allowed:.1f} s")
    doc = {"per_file_seconds": table, "files": counts, "floor_2_cores_s": floor, "allowed_s": allowed}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "small_file_floor.json").write_text(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
