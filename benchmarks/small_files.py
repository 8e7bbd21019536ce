"""Small files at the speed of the disk: validate 200 small files, batch-convert 200 small ABF sessions, and convert
+ validate one small file in a fresh process — each side by side with its anchor, in one run, as ratios.

    python benchmarks/small_files.py --neuroconv-python /tmp/benchvenv/bin/python
    python benchmarks/small_files.py --baseline-src /tmp/wt/src     # also "today's" nwbconvert (another checkout)

Workload (benchmarks/workload/small_files/, reused): the real ABF, EDF and BrainVision files and the SpikeGLX
sample (a 1 s stub) converted by nwbconvert, each copied with a new identifier to 50 files (49 SpikeGLX), plus
the real DANDI file: 200 files. Results: benchmarks/results/small_files.json and the printed table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
REALDATA = HERE.parent.parent / "shared" / "realdata"
ABF = REALDATA / "abf" / "05210017_vc_abf1.abf"
SOURCES = {
    "abf": ABF,
    "edf": REALDATA / "edf" / "mne" / "test.edf",
    "brainvision": REALDATA / "brainvision" / "mne" / "test.vhdr",
    "spikeglx": HERE.parent / "sample_data" / "spikeglx",
}
METADATA = [
    "--set=session_start_time=2026-01-15T10:00:00+00:00",
    "--set=subject.subject_id=m1",
    "--set=subject.species=Mus musculus",
    "--set=subject.sex=F",
    "--set=subject.age=P90D",
]


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=env)
    return time.perf_counter() - started


def interleaved(runs: int, first: list[str], second: list[str]) -> tuple[float, float]:
    """Medians of `runs` timings of each command, run by turns (the machine's speed drifts within a run)."""
    times = [(timed(first), timed(second)) for _ in range(runs)]
    return statistics.median(a for a, _ in times), statistics.median(b for _, b in times)


def validate_set(workload: Path, copies: int) -> Path:
    """200 small NWB files: four conversions copied with new identifiers, and the real DANDI file."""
    import h5py

    folder = workload / "validate"
    if folder.exists():
        return folder
    partial = workload / "validate.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name, source in SOURCES.items():
        first = partial / f"{name}_000.nwb"
        stub = ["--stub", "1"] if name == "spikeglx" else []
        cmd = [str(BIN / "nwbconvert"), "convert", str(source), "-o", str(first), "-q", *stub, *METADATA]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        for i in range(1, copies - (name == "spikeglx")):
            copy = partial / f"{name}_{i:03d}.nwb"
            shutil.copy(first, copy)
            with h5py.File(copy, "a") as f:
                f["identifier"][()] = str(uuid.uuid4())
    shutil.copy(REALDATA / "nwb" / "sub_anm00239123_ses_20170627T093549_ecephys_and_ogen.nwb", partial / "dandi.nwb")
    partial.rename(folder)
    return folder


def batch_study(workload: Path, sessions: int) -> Path:
    """A study config of `sessions` ABF sessions (each a link to the real ABF file)."""
    folder = workload / f"abf_sessions_{sessions}"
    study = folder / "study.yaml"
    if study.exists():
        return study
    (folder / "raw").mkdir(parents=True, exist_ok=True)
    lines = ["sessions:"]
    for i in range(sessions):
        link = folder / "raw" / f"cell{i:03d}.abf"
        if not link.exists():
            link.symlink_to(ABF)
        lines += [f"  - subject_id: m{i // 10}", f'    session_id: "{i}"', f"    source: raw/{link.name}"]
    lines += ["metadata:", "  - session_start_time: 2026-01-15T10:00:00+00:00", "    subject:"]
    lines += ["      species: Mus musculus", "      sex: F", "      age: P90D"]
    study.write_text("\n".join(lines) + "\n")
    return study


NEUROCONV_LOOP = """
import sys, time
from pathlib import Path
from datetime import datetime, timezone
from neuroconv.datainterfaces import AbfInterface
out = Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True)
files = sorted(Path(sys.argv[1]).glob("*.abf"))
started = time.perf_counter()
for i, f in enumerate(files):
    interface = AbfInterface(file_paths=[str(f)])
    metadata = interface.get_metadata()
    metadata["NWBFile"]["session_start_time"] = datetime(2026, 1, 15, 10, tzinfo=timezone.utc)
    metadata["Subject"] = dict(subject_id="m1", species="Mus musculus", sex="F", age="P90D")
    interface.run_conversion(nwbfile_path=str(out / f"{i}.nwb"), metadata=metadata, overwrite=True)
print(time.perf_counter() - started)
"""


def neuroconv_loop(python: str, study: Path, out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    result = subprocess.run([python, "-c", NEUROCONV_LOOP, str(study.parent / "raw"), str(out)], capture_output=True)
    if result.returncode != 0:
        raise SystemExit(f"NeuroConv's loop failed:\n{result.stderr.decode()[-2000:]}")
    return float(result.stdout.decode().split()[-1])


def compiled(folders: list[Path]) -> None:
    """Bytecode for the nwbconvert sources timed, as an install gives it (pip compiles every package it installs;
    for an editable install `make` does, and PYTHONDONTWRITEBYTECODE would otherwise make each start compile them),
    so that the fresh-process timings compare like with like: the anchor's libraries are all compiled."""
    for folder in folders:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(folder)], check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200, help="ABF sessions in the batch")
    parser.add_argument("--neuroconv-python", help="a Python with neuroconv installed (its own venv)")
    parser.add_argument("--baseline-src", type=Path, help="src/ of another nwbconvert checkout: today's figures")
    parser.add_argument("--runs", type=int, default=3, help="runs of each fresh-process timing, by turns (median)")
    args = parser.parse_args()
    workload = HERE / "workload" / "small_files"
    workload.mkdir(parents=True, exist_ok=True)
    import nwbconvert as package  # the command list below is named nwbconvert

    compiled([Path(package.__file__).parent, *([args.baseline_src] if args.baseline_src else [])])
    folder = validate_set(workload, 50)
    n_files = len(list(folder.glob("*.nwb")))
    nwbconvert = [sys.executable, "-m", "nwbconvert"]
    rows: dict[str, float] = {}
    rows["validate: nwbconvert -j 2"] = timed([*nwbconvert, "validate", str(folder), "-j", "2"])
    if args.baseline_src:
        env = dict(os.environ, PYTHONPATH=str(args.baseline_src))
        rows["validate: baseline nwbconvert -j 2"] = timed([*nwbconvert, "validate", str(folder), "-j", "2"], env)
    rows["validate: nwbinspector --config dandi"] = timed([str(BIN / "nwbinspector"), str(folder), "--config", "dandi"])
    study = batch_study(workload, args.sessions)
    out = workload / "batch_out"
    shutil.rmtree(out, ignore_errors=True)
    rows["batch: nwbconvert -j 2"] = timed([*nwbconvert, "batch", str(study), "-o", str(out), "-j", "2"])
    converted = len(list(out.rglob("*.nwb")))
    shutil.rmtree(out, ignore_errors=True)  # NeuroConv's loop checks nothing: the like-for-like row
    unchecked = [*nwbconvert, "batch", str(study), "-o", str(out), "-j", "2", "--no-validate"]
    rows["batch: nwbconvert -j 2 --no-validate"] = timed(unchecked)
    if args.neuroconv_python:
        rows["batch: NeuroConv AbfInterface loop"] = neuroconv_loop(args.neuroconv_python, study, workload / "nc_out")
    one = workload / "one.nwb"
    fresh = [*nwbconvert, "convert", str(ABF), "-o", str(one), "--overwrite", "-q", *METADATA]
    imports = [sys.executable, "-c", "import pynwb, neo, nwbinspector"]
    converting, importing = interleaved(args.runs, fresh, imports)
    rows["fresh: nwbconvert convert + validate"] = converting
    rows["fresh: import pynwb, neo, nwbinspector"] = importing
    report(rows, n_files, args.sessions, converted)


def report(rows: dict[str, float], n_files: int, sessions: int, converted: int) -> None:
    ratios = {
        "validate: nwbinspector / nwbconvert": rows["validate: nwbinspector --config dandi"]
        / rows["validate: nwbconvert -j 2"],
        "batch: sessions per second": sessions / rows["batch: nwbconvert -j 2"],
        "fresh: convert+validate / imports": rows["fresh: nwbconvert convert + validate"]
        / rows["fresh: import pynwb, neo, nwbinspector"],
    }
    if "validate: baseline nwbconvert -j 2" in rows:
        ratios["validate: baseline / nwbconvert"] = (
            rows["validate: baseline nwbconvert -j 2"] / rows["validate: nwbconvert -j 2"]
        )
    if "batch: NeuroConv AbfInterface loop" in rows:
        ratios["batch: NeuroConv / nwbconvert"] = (
            rows["batch: NeuroConv AbfInterface loop"] / rows["batch: nwbconvert -j 2"]
        )
        ratios["batch, both unchecked: NeuroConv / nwbconvert"] = (
            rows["batch: NeuroConv AbfInterface loop"] / rows["batch: nwbconvert -j 2 --no-validate"]
        )
    print(f"{n_files} files validated; {sessions} ABF sessions in the batch ({converted} written); 2 cores")
    for name, seconds in rows.items():
        print(f"  {name:45s} {seconds:8.2f} s")
    for name, ratio in ratios.items():
        print(f"  {name:45s} {ratio:8.2f}")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    load = os.getloadavg()[0]
    doc = {"files": n_files, "sessions": sessions, "seconds": rows, "ratios": ratios, "load_after": load}
    (results / "small_files.json").write_text(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
