"""What `validate`'s text report costs to lay out for the 200 small files of benchmarks/small_files.py: the default
report (a finding several files share printed once) against `--detailed` (every file's table whole, the report as
it was before), side by side in one run, as a ratio.

    python benchmarks/report_layout.py              # makes small_files.py's workload if it is missing

The files are validated once (`nwbconvert validate DIR -j 2 --json`); the findings are read back from that document
and laid out by `cli/render_validation.print_report` on a 160-column console writing to /dev/null (what `validate`
prints when its output is not a terminal), `--runs` times each, interleaved (medians). The report is laid out after
every file has been checked, so its time adds to the command's. Results: benchmarks/results/report_layout.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from small_files import HERE, validate_set


def reports_of(folder: Path) -> list[Any]:
    """The FileReports of one `validate --json` run over `folder` (its findings are Finding's fields by name)."""
    from nwbconvert.validate.findings import FileReport, Finding, Severity, ValidationLayer

    command = [sys.executable, "-m", "nwbconvert", "validate", str(folder), "-j", "2", "--json"]
    files = json.loads(subprocess.run(command, capture_output=True).stdout)["result"]["files"]

    def finding(f: dict[str, Any]) -> Finding:
        return Finding(**{**f, "severity": Severity(f["severity"]), "layer": ValidationLayer(f["layer"])})

    return [FileReport(r["file"], tuple(finding(f) for f in r["findings"])) for r in files]


def laid_out(reports: list[Any], detailed: bool) -> float:
    from rich.console import Console

    from nwbconvert.cli.render_validation import print_report

    with open(os.devnull, "w") as sink:
        console = Console(file=sink, width=160, highlight=False, markup=False, soft_wrap=True)
        started = time.perf_counter()
        print_report(console, reports, detailed)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="layouts of each report (median)")
    args = parser.parse_args()
    reports = reports_of(validate_set(HERE / "workload" / "small_files", 50))
    times: dict[str, list[float]] = {"shared once (default)": [], "--detailed (every table)": []}
    for _ in range(args.runs):
        times["shared once (default)"].append(laid_out(reports, detailed=False))
        times["--detailed (every table)"].append(laid_out(reports, detailed=True))
    seconds = {name: statistics.median(values) for name, values in times.items()}
    ratio = seconds["--detailed (every table)"] / seconds["shared once (default)"]
    findings = sum(len(r.findings) for r in reports)
    print(f"{len(reports)} files, {findings} findings; medians of {args.runs} layouts")
    for name, value in seconds.items():
        print(f"  {name:28s} {value:7.3f} s")
    print(f"  {'--detailed / default':28s} {ratio:7.1f} ×")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    doc = {"files": len(reports), "findings": findings, "seconds": seconds, "ratio": ratio}
    (results / "report_layout.json").write_text(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
