"""What a small file's check cannot go below: hdmf's read, validation and construction and NWB Inspector's checks,
timed alone per file type, against the whole `check_file`, in one warm process.

    python benchmarks/small_file_floor.py          # after benchmarks/small_files.py has made its workload

Each file type's first files of benchmarks/workload/small_files/validate/ are opened with one `NWBHDF5IO`, as the
check opens them (validate/opened.py): the builder read, then validated with pynwb's validator maps, then built
into an NWBFile, which NWB Inspector inspects with DANDI's configuration. Medians of `--runs` passes. The floor of
the 200-file set is its 199 converted files' hdmf + NWB Inspector time spread over 2 cores (the real DANDI file
left out), before any import, DANDI check or walk, and with one process running (two running at once each take
longer). Beside it, the floor as it would be with a reader of hdmf's builders written outside hdmf, at its best:
the builder's read replaced by a raw read of the same objects and attributes with HDF5's own calls (`raw_read`,
nothing built) plus the making of the same builders with hdmf's builder classes (`rebuilt`, nothing read). The
time the issue allows is a fifth of the baseline's `validate DIR -j 2`: timed in the same run with `--baseline-src`
(src/ of a checkout of 31f3048), else read from small_files.json (another run: the machine's speed varies by
15-30%).
Results: benchmarks/results/small_file_floor.json.
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
RAW = "raw HDF5 read"
REBUILT = "builders made"


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


def raw_read(path: Path) -> float:
    """Seconds to open the file and read every attribute of every object the builder holds (the cached
    specifications left out, as hdmf leaves them out) with HDF5's own calls (H5Ovisit, H5Aread), building nothing."""
    import h5py
    import numpy as np
    from h5py import h5a, h5o, h5t

    started = time.perf_counter()
    with h5py.File(path, "r") as h5:
        location = h5.attrs.get(".specloc")  # a reference to the specifications group
        skip = h5[location].name.lstrip("/").encode() if location is not None else None
        objects: list[tuple[bytes, int]] = [(b".", h5o.get_info(h5.id).num_attrs)]
        h5o.visit(h5.id, lambda name, info: objects.append((name, info.num_attrs)), info=True)
        for name, attributes in objects:
            if skip is not None and (name == skip or name.startswith(skip + b"/")):
                continue
            obj = h5o.open(h5.id, name)
            for index in range(attributes):
                attr = h5a.open(obj, index=index)  # read as h5py reads it (its memory type from the dtype)
                if attr.shape is not None:
                    attr.read(np.zeros(attr.shape, dtype=attr.dtype), mtype=h5t.py_create(attr.dtype))
    return time.perf_counter() - started


def rebuilt(path: Path) -> float:
    """Seconds to make the file's builder tree again, as hdmf's reader makes it, from the tree hdmf read: the same
    GroupBuilders, DatasetBuilders (their data objects reused) and LinkBuilders, with their attributes."""
    from hdmf.build import DatasetBuilder, GroupBuilder, LinkBuilder
    from pynwb import NWBHDF5IO

    def again(old: Any, made: dict[int, Any]) -> Any:
        if id(old) in made:
            return made[id(old)]
        if isinstance(old, DatasetBuilder):
            new = DatasetBuilder(
                old.name, old.data, dtype=old.dtype, maxshape=old.maxshape, attributes=dict(old.attributes)
            )
        else:
            groups = {k: again(v, made) for k, v in old.groups.items()}
            datasets = {k: again(v, made) for k, v in old.datasets.items()}
            links = {k: LinkBuilder(again(v.builder, made), v.name, source=v.source) for k, v in old.links.items()}
            new = GroupBuilder(old.name, groups, datasets, dict(old.attributes), links, source=old.source)
        new.location = old.location
        made[id(old)] = new
        return new

    with NWBHDF5IO(str(path), mode="r", load_namespaces=False) as io:
        tree = io.read_builder()
        started = time.perf_counter()
        again(tree, {})
        return time.perf_counter() - started


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
        for part, timing in ((RAW, raw_read), (REBUILT, rebuilt)):
            table[kind][part] = statistics.median(timing(path) for _ in range(runs) for path in paths)
    return table


def validate_dir(src: Path | None = None) -> float:
    """Seconds of `nwbconvert validate DIR -j 2` of the workload, with the nwbconvert of `src` (None: this one)."""
    from small_files import timed  # benchmarks/ is on the path when this script runs

    env = dict(os.environ, PYTHONPATH=str(src)) if src is not None else None
    return timed([sys.executable, "-m", "nwbconvert", "validate", str(FOLDER), "-j", "2"], env)


def target(baseline_src: Path | None) -> float | None:
    """A fifth of the baseline's `validate DIR -j 2`, timed now with `baseline_src`, else from small_files.json."""
    if baseline_src is not None:
        return validate_dir(baseline_src) / 5
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
    now = validate_dir() if args.baseline_src else None  # this code's, in the same run as the baseline's
    warnings.simplefilter("ignore")
    table = per_kind(args.runs, args.files)
    counts = {kind: len(list(FOLDER.glob(f"{kind}_*.nwb"))) for kind in KINDS}
    floor = sum(counts[kind] * sum(row[part] for part in PARTS[:-1]) for kind, row in table.items()) / 2
    saved = sum(counts[kind] * (row[PARTS[0]] - row[RAW] - row[REBUILT]) for kind, row in table.items()) / 2
    columns = (*PARTS, RAW, REBUILT)
    print(f"{'file':12s} " + " ".join(f"{part:>22s}" for part in columns))
    for kind, row in table.items():
        print(f"{kind:12s} " + " ".join(f"{row[part]:21.3f}s" for part in columns))
    print(f"hdmf + NWB Inspector for the {sum(counts.values())} converted files, over 2 cores: {floor:.1f} s")
    best = f"{floor - saved:.1f} s ({saved:.1f} s less)"
    print(f"the same with the builders read in the raw read's time plus their making: {best}")
    if allowed is not None:
        print(f"time allowed (5 x faster than the baseline): {allowed:.1f} s")
    if allowed is not None and now is not None:
        print(f"validate -j 2 now: {now:.1f} s, {5 * allowed / now:.2f} x the baseline")
        print(f"with that reader at best: {now - saved:.1f} s, {5 * allowed / (now - saved):.2f} x the baseline")
    doc = {
        "per_file_seconds": table,
        "files": counts,
        "floor_2_cores_s": floor,
        "floor_with_best_outside_reader_2_cores_s": floor - saved,
        "allowed_s": allowed,
        "validate_now_s": now,
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "small_file_floor.json").write_text(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
