"""--dry-run shows what is written: every series the plan lists is in the file, and nothing else, with the
plan's group, NWB type and timing (read back with h5py, not through nwbconvert)."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, SAMPLE_DATA, realdata

SET = [f"--set={kv}" for kv in COMPLETE_METADATA]
SERIES_TYPES = {"ElectricalSeries", "TimeSeries", "VoltageClampSeries", "CurrentClampSeries"}

SOURCES = {
    "spikeglx": lambda: SAMPLE_DATA / "spikeglx" / "Sample_g0",  # AP, LF (processing), NIDQ, sync words
    "neuralynx-gaps": lambda: realdata("neuralynx/mne_testing_2kHz"),  # 3 segments with gaps: timestamps
    "abf": lambda: realdata("abf/16d22006_kim_gapfree.abf"),  # a clamp sweep and a TimeSeries
}


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _written(path: Path) -> set[tuple[str, str, str]]:
    """(group/name, neurodata type, timing) of every series the file holds."""
    found: set[tuple[str, str, str]] = set()

    def visit(name: str, obj: object) -> None:
        if isinstance(obj, h5py.Group) and _text(obj.attrs.get("neurodata_type", "")) in SERIES_TYPES:
            timing = "rate" if "starting_time" in obj else "timestamps"
            found.add((name, _text(obj.attrs["neurodata_type"]), timing))

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return found


@pytest.mark.parametrize("name", SOURCES)
def test_the_file_holds_exactly_the_planned_series(tmp_path: Path, name: str) -> None:
    source = SOURCES[name]()
    dry = nwbconvert("convert", source, *SET, "--timezone", "UTC", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    plan = json.loads(dry.stdout)["result"]["plan"]
    planned = {(f"{s['group']}/{s['name']}", s["neurodata_type"], s["timing"]) for s in plan["series"]}
    out = tmp_path / "o.nwb"
    result = nwbconvert("convert", source, "-o", out, *SET, "--timezone", "UTC", "-q", "--no-validate")
    assert result.returncode == 0, result.stderr
    assert _written(out) == planned
    assert len(planned) == len(plan["series"])  # names are unique
    if name == "neuralynx-gaps":
        assert {timing for _, _, timing in planned} == {"timestamps"}
    if name == "spikeglx":
        assert ("processing/ecephys/LFP/ElectricalSeriesImec0LF", "ElectricalSeries", "rate") in planned
    if name == "abf":
        assert {kind for _, kind, _ in planned} == {"CurrentClampSeries", "TimeSeries"}
