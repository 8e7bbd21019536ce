"""Damaged copies of the real recordings in ../shared/realdata, converted by the real CLI; outcomes by format.

Each mutant is a copy of one source with one seeded damage: a data or header file truncated to 1, 50 or 99 %,
8 header bytes flipped, a 4 KiB block zeroed, or a sibling file removed. `nwbconvert convert` runs on it with a
timeout. Refused cleanly (exit 3/4, one "Error:" paragraph), converted complete, or converted with a warning are
fine; failures are exit 70 or another code, a hang, a traceback, a Python exception name, a file left behind, or
exit 0 with less data than the undamaged copy (series, samples, channels, events, units, spikes; ROIs and
movie frames that are not blank) and no warning.
`python scripts/fuzz_sources.py [--quick] [--format X] [--jobs N]` exits 1 on any failure and lists each one.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz_catalog import QUICK, SOURCES, Source

ROOT = Path(__file__).resolve().parents[1]
SELF = "scripts/fuzz_sources.py"
REALDATA = ROOT.parent / "shared" / "realdata"
METADATA = (
    "session_start_time: 2020-01-01T10:00:00+00:00\n"
    "subject: {subject_id: m1, species: Mus musculus, sex: F, age: P90D}\n"
)
EXCEPTION_NAME = re.compile(r"\b[A-Z][a-zA-Z]*(Error|Exception)\b|Traceback")
OUTCOMES = ("refused-clean", "converted-complete", "converted-with-warning", "undeclared-shorter")
FAILURES = ("exit-70", "hang", "other-exit", "unexplained", "traceback", "exception-name", "leftover", "silent-loss")
BLOCK = 4096


@dataclass(frozen=True)
class Mutant:
    source: Source
    kind: str  # truncate-1, truncate-50, truncate-99, flip, zero-4k, remove, or "none" (the undamaged copy)
    file: str = ""

    @property
    def label(self) -> str:
        return f"{self.source.key}: {self.kind} {self.file}".rstrip()


def mutants(source: Source) -> list[Mutant]:
    """Every mutant of one source, in a fixed order."""
    found: list[Mutant] = []
    for file in dict.fromkeys(source.headers + source.data):
        found += [Mutant(source, f"truncate-{p}", file) for p in (1, 50, 99)]
    headed = [f for f in source.data if (source.header_bytes or any(source.flip_span)) and f not in source.headers]
    found += [Mutant(source, "flip", f) for f in (*source.headers, *headed)]
    found += [Mutant(source, "zero-4k", f) for f in source.data]
    found += [Mutant(source, "remove", f) for f in source.siblings]
    return found


def quick(found: list[Mutant]) -> list[Mutant]:
    """The bounded run's mutants: the first of `found` that matches each entry of QUICK."""
    picked = [next((m for m in found if (m.source.key, m.kind) == (k, kind) and m.file.endswith(end)), None)
              for k, kind, end in QUICK]  # fmt: skip
    return [m for m in picked if m is not None]


def _copy_tree(src: Path, dst: Path) -> None:
    """A writable copy (the shared files are read-only)."""
    for folder, _, files in os.walk(src):
        target = dst / Path(folder).relative_to(src)
        target.mkdir(parents=True, exist_ok=True)
        for f in files:
            shutil.copyfile(Path(folder) / f, target / f)


def prepare(source: Source, into: Path) -> Path:
    """The undamaged copy of `source` in `into`; returns the copy's root."""
    copy = into / "src"
    if source.spikeglx:
        from nwbconvert.synthetic.spikeglx import write_spikeglx_from_meta

        write_spikeglx_from_meta(copy, sorted((REALDATA / source.root).glob("*.meta")), seconds=0.2)
    else:
        _copy_tree(REALDATA / source.root, copy)
    return copy


def damage(m: Mutant, copy: Path) -> None:
    """Apply one mutant to the copy, deterministically (seeded by the mutant's label)."""
    path = copy / m.file
    rng = random.Random(m.label)
    if m.kind == "remove":
        path.unlink()
        return
    data = bytearray(path.read_bytes())
    header = len(data) if m.file in m.source.headers else min(m.source.header_bytes, len(data))
    if m.kind.startswith("truncate-"):
        data = data[: len(data) * int(m.kind.split("-")[1]) // 100]
    elif m.kind == "flip":  # 8 bytes of the header changed
        span = range(header) if m.file in m.source.headers or not any(m.source.flip_span) else _span(m, len(data))
        for pos in rng.sample(span, k=min(8, len(span))):
            data[pos] ^= rng.randrange(1, 256)
    elif m.kind == "zero-4k":  # a block of the data (after a file's own header) zeroed
        start = 0 if m.file in m.source.headers else header
        offset = rng.randrange(start, max(start + 1, len(data) - BLOCK))
        data[offset : offset + BLOCK] = bytes(len(data[offset : offset + BLOCK]))
    path.write_bytes(bytes(data))


def _span(m: Mutant, n: int) -> range:
    """The bytes of a data file a flip lands in, from the source's flip_span (negative: from the end)."""
    lo, hi = (v + n if v < 0 else min(v, n) for v in m.source.flip_span)
    return range(lo, hi)


@dataclass
class Result:
    mutant: Mutant
    outcome: str  # one of OUTCOMES or FAILURES
    reasons: list[str] = field(default_factory=list)
    message: str = ""


def contents(nwb: Path) -> dict[str, int]:
    """What an NWB file holds, counted: series, samples, channels, event rows, units, spikes; where it holds
    imaging, also ROIs and the movies' frames that are not blank (a frame a reader could not read, written as
    zeros, is a loss the frame count does not show)."""
    import h5py

    counts = dict.fromkeys(("series", "samples", "channels", "events", "units", "spikes"), 0)

    def visit(name: str, obj: object) -> None:
        if not isinstance(obj, h5py.Dataset) or name.startswith(("general", "specifications")):
            return
        parent = str(obj.parent.attrs.get("neurodata_type", ""))
        if obj.name.endswith("/data") and parent.endswith("Series"):
            counts["series"] += 1
            counts["samples"] += obj.shape[0] if obj.shape else 1
            counts["channels"] += obj.shape[1] if len(obj.shape) > 1 else 1
            if parent in ("TwoPhotonSeries", "OnePhotonSeries") and len(obj.shape) >= 3:
                counts["frames"] = counts.get("frames", 0) + sum(bool(obj[i].any()) for i in range(obj.shape[0]))
        elif parent == "PlaneSegmentation" and name.endswith("/id"):
            counts["rois"] = counts.get("rois", 0) + obj.shape[0]
        elif name.startswith(("events/", "intervals/")) and name.endswith("/id"):
            counts["events"] += obj.shape[0]
        elif name == "units/id":
            counts["units"] = obj.shape[0]
        elif name == "units/spike_times":
            counts["spikes"] = obj.shape[0]

    with h5py.File(nwb, "r") as f:
        f.visititems(visit)
    return counts


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


@dataclass
class Run:
    code: int | None  # None: killed at the timeout
    out: str
    counts: dict[str, int] | None
    leftovers: list[str]
    command: str
    work: str = ""  # the mutant's temporary folder, left out of warnings so they compare across copies

    @property
    def warnings(self) -> set[str]:  # what the conversion warned about, the copy's folder left out
        lines = (line for line in self.out.splitlines() if line.startswith("Warning:"))
        return {line.replace(self.work, "<copy>") if self.work else line for line in lines}


def convert(m: Mutant, work: Path, timeout: float, extra: tuple[str, ...]) -> Run:
    """Copy, damage and convert one mutant with the real CLI; what it printed, wrote and left behind."""
    copy = prepare(m.source, work)
    if m.kind != "none":
        damage(m, copy)
    out, tmp = work / "out", work / "tmp"
    for folder in (out, tmp):
        folder.mkdir()
    (work / "meta.yaml").write_text(METADATA)
    before = _files(copy)
    sets = [a for pair in m.source.sets for a in ("--set", pair)]
    args = ["convert", str(copy / m.source.target), "-o", str(out / "x.nwb"), "-m", str(work / "meta.yaml"), *sets]
    args += extra
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | {"COLUMNS": "200", "TMPDIR": str(tmp)}
    command = f"{sys.executable} -m nwbconvert " + " ".join(f"'{a}'" if " " in a else a for a in args)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "nwbconvert", *args], capture_output=True, text=True, env=env, timeout=timeout
        )
        code, text = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        code, text = None, str(exc.stdout or "") + str(exc.stderr or "")
    written = _files(out)
    left = sorted(written - ({"x.nwb"} if code == 0 else set()))
    left += [f"TMPDIR/{p}" for p in sorted(_files(tmp))] + [f"source/{p}" for p in sorted(_files(copy) - before)]
    counts = contents(out / "x.nwb") if code == 0 and "x.nwb" in written else None
    return Run(code, text, counts, left, command, str(work))


def classify(m: Mutant, run: Run, baseline: Run | None) -> Result:
    """The mutant's outcome: the first failure found, else how it was refused or converted. A warning counts
    when the undamaged copy did not give it too."""
    reasons: list[str] = []
    warned = bool(run.warnings - (baseline.warnings if baseline else set()))
    if run.code is None:
        reasons.append("hang")
    elif run.code == 70:
        reasons.append("exit-70")
    elif run.code not in (0, 3, 4):
        reasons.append("other-exit")
    elif run.code != 0 and ("Error:" not in run.out or "\n\n" in run.out[run.out.index("Error:") :].strip()):
        reasons.append("unexplained")  # a refusal must say why, in one paragraph
    if "Traceback" in run.out:
        reasons.append("traceback")
    names = sorted({x.group(0) for x in EXCEPTION_NAME.finditer(run.out)} - {"Traceback"})
    if names:
        reasons.append("exception-name")
    if run.leftovers:
        reasons.append("leftover")
    base, got = (baseline.counts if baseline and not warned else None), run.counts or {}
    fewer = [k for k, n in base.items() if got and got.get(k, 0) < n] if base else []
    lost = [f"{k} {base[k]} -> {got.get(k, 0)}" for k in fewer] if base else []
    # cut at a whole sample of a file whose length no header declares: nothing tells it from a shorter recording
    undeclared = m.kind.startswith("truncate") and m.file in m.source.undeclared and fewer == ["samples"]
    reasons += ["silent-loss"] if lost and not undeclared else []
    error = next((line for line in run.out.splitlines() if line.startswith("Error:")), "")
    detail = [f"exit {run.code}", *names, *run.leftovers, *lost]
    if reasons:
        outcome = reasons[0]
    elif run.code in (3, 4):
        outcome = "refused-clean"
    elif lost:
        outcome = "undeclared-shorter"  # cut at a whole sample where no header declares the length
    else:
        outcome = "converted-with-warning" if warned else "converted-complete"
    return Result(m, outcome, [*reasons, *detail], error[:300])


class Baselines:
    """The undamaged copy of each source converted once (when a mutant of it converts), its contents counted."""

    def __init__(self, timeout: float, extra: tuple[str, ...]) -> None:
        self.timeout, self.extra = timeout, extra
        self.done: dict[str, Run] = {}
        self.locks: dict[str, threading.Lock] = {s.key: threading.Lock() for s in SOURCES}

    def get(self, source: Source) -> Run:
        with self.locks[source.key]:
            if source.key not in self.done:
                with tempfile.TemporaryDirectory(prefix="fuzz-base-") as work:
                    self.done[source.key] = convert(Mutant(source, "none"), Path(work), self.timeout, self.extra)
            return self.done[source.key]


def run_one(m: Mutant, baselines: Baselines, keep: Path | None) -> Result:
    """Convert one mutant in a temporary folder (kept under `keep` when given) and classify it."""
    work = Path(tempfile.mkdtemp(prefix="fuzz-")) if keep is None else keep / re.sub(r"[^\w.-]+", "_", m.label)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    run = convert(m, work, baselines.timeout, baselines.extra)
    if keep is None:
        shutil.rmtree(work)
    else:
        print(f"{m.label}: kept in {work}\n  {run.command}", file=sys.stderr)
    return classify(m, run, baselines.get(m.source) if run.code == 0 else None)


def run_all(found: list[Mutant], baselines: Baselines, jobs: int, keep: Path | None) -> list[Result]:
    """Every mutant, `jobs` at a time; each outcome on stderr as it comes, the results in the mutants' order."""
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        futures = {pool.submit(run_one, m, baselines, keep): i for i, m in enumerate(found)}
        results: dict[int, Result] = {}
        for n, future in enumerate(as_completed(futures), 1):
            r = results[futures[future]] = future.result()
            said = f" | {r.message[:240]}" if r.message else ""
            print(f"[{n}/{len(found)}] {r.outcome}: {r.mutant.label}{said}", file=sys.stderr, flush=True)
    return [results[i] for i in range(len(found))]


def table(results: Iterable[Result], baselines: Baselines) -> str:
    """Outcomes by format, as a Markdown table."""
    counted: dict[str, Counter[str]] = {}
    for r in results:
        counted.setdefault(r.mutant.source.fmt, Counter())[r.outcome] += 1
    rows = dict(sorted(counted.items())) | {"**all**": sum(counted.values(), Counter())}
    columns = [c for c in (*OUTCOMES, *FAILURES) if rows["**all**"][c]]
    lines = ["| format | mutants | " + " | ".join(columns) + " |", "|---|---|" + "---|" * len(columns)]
    lines += [f"| {f} | {row.total()} | " + " | ".join(str(row[c]) for c in columns) + " |" for f, row in rows.items()]
    refused = [s.key for s in SOURCES if s.key in baselines.done and baselines.done[s.key].code != 0]
    if refused:
        lines.append(f"\nUndamaged copies that did not convert (no baseline to compare with): {', '.join(refused)}.")
    return "\n".join(lines) + "\n"


def report(results: list[Result]) -> str:
    """Each failure: the mutant, why, the error line, and the command that reproduces it."""
    lines = []
    for r in results:
        if r.outcome in FAILURES:
            lines.append(f"- FAIL {r.outcome}: {r.mutant.label} ({'; '.join(r.reasons)})")
            if r.message:
                lines.append(f"    {r.message}")
            lines.append(f"    reproduce: python {SELF} --only '{r.mutant.label}' --keep /tmp/fuzz-keep")
    return "\n".join(lines) + ("\n" if lines else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few mutants per format (the bounded test's set)")
    parser.add_argument("--format", action="append", help="only this reader's sources (repeatable)")
    parser.add_argument("--only", help="only the mutant with this label (as a failure lists it)")
    parser.add_argument("--jobs", type=int, default=2, help="conversions at once")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds before a conversion counts as a hang")
    parser.add_argument("--stub", type=float, help="convert only the first SECONDS (default: everything)")
    parser.add_argument("--markdown", type=Path, help="also write the table and the failures to this file")
    parser.add_argument("--keep", type=Path, help="keep each damaged copy and its output under this folder")
    args = parser.parse_args(argv)
    if not REALDATA.exists():
        print(f"{REALDATA} is missing: the real recordings live beside the project.", file=sys.stderr)
        return 2
    found = [m for s in SOURCES if not args.format or s.fmt in args.format for m in mutants(s)]
    found = [m for m in (quick(found) if args.quick else found) if args.only in (None, m.label)]
    extra = ("--no-validate",) if args.quick else ()
    baselines = Baselines(args.timeout, extra + (("--stub", str(args.stub)) if args.stub else ()))
    results = run_all(found, baselines, args.jobs, args.keep)
    text, failures = table(results, baselines), report(results)
    print(text + ("\nFailures:\n" + failures if failures else "\nNo failures.\n"))
    if args.markdown:
        args.markdown.write_text(text + ("\n## Failures\n\n" + failures if failures else "\nNo failures.\n"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
