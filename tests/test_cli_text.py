"""Text from files and sources prints as it is: names, descriptions and paths with square brackets are not read as
rich markup (which dropped "[left]" and failed on "[/]"), and a '$' in a preview figure's title or label is not read
as matplotlib's mathtext (which garbled "$5 and $6" and failed the figure on what it could not parse); `--json` is
strict JSON whatever numbers the file holds (a NaN rate is null, not Python's `NaN`, which jq refuses)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, realdata

DESCRIPTION = "Mouse [/] on the [bold] wheel"  # "[/]" closes nothing: rich raised MarkupError on it
SERIES = "lick [left]"  # "[left]" looks like a style tag: rich dropped it


@pytest.fixture(scope="module")
def bracketed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pynwb-written file whose session description and series name hold square brackets."""
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries

    path = tmp_path_factory.mktemp("brackets") / "brackets.nwb"
    nwbfile = NWBFile(DESCRIPTION, "brackets-1", datetime(2026, 1, 15, 10, tzinfo=timezone.utc))
    series = TimeSeries(name=SERIES, data=[1.0, 2.0, 3.0], unit="V", rate=10.0, starting_time=-1.0)
    nwbfile.add_acquisition(series)  # a negative start: NWB Inspector reports it at /acquisition/lick [left]
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    return path


def test_validate_text_keeps_brackets_in_locations(bracketed: Path) -> None:
    text = nwbconvert("validate", bracketed)
    as_json = nwbconvert("validate", bracketed, "--json")
    locations = {f["location"] for f in json.loads(as_json.stdout)["result"]["files"][0]["findings"]}
    assert f"/acquisition/{SERIES}" in locations  # the finding the text must show whole
    assert f"/acquisition/{SERIES}" in text.stdout
    assert text.returncode == as_json.returncode == 1  # the missing subject is an error, in both formats
    assert "Traceback" not in text.stderr and "MarkupError" not in text.stderr


def test_info_prints_description_and_names_as_they_are(bracketed: Path) -> None:
    result = nwbconvert("info", bracketed)
    assert result.returncode == 0, result.stderr
    assert DESCRIPTION in result.stdout
    assert SERIES in result.stdout


def test_convert_dry_run_shows_a_bracketed_source_path(tmp_path: Path) -> None:
    source = tmp_path / "cell [good].abf"
    shutil.copy(realdata("abf/05210017_vc_abf1.abf"), source)
    metadata = [f"--set={kv}" for kv in COMPLETE_METADATA]
    result = nwbconvert("convert", source, "-o", tmp_path / "out.nwb", "--dry-run", *metadata)
    assert result.returncode == 0, result.stderr
    assert "cell [good].abf" in result.stdout


def test_preview_draws_a_series_whose_name_and_unit_hold_dollar_signs(tmp_path: Path) -> None:
    import numpy as np
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries

    nwb, page = tmp_path / "dollars.nwb", tmp_path / "dollars.html"
    nwbfile = NWBFile("dollars", "dollars-1", datetime(2026, 1, 15, 10, tzinfo=timezone.utc))
    data = np.sin(np.arange(1000) / 10.0)
    nwbfile.add_acquisition(TimeSeries(name="reward $5 and $6", data=data, unit="$\\foo$", rate=100.0))
    with NWBHDF5IO(str(nwb), "w") as io:
        io.write(nwbfile)
    result = nwbconvert("preview", nwb, "-o", page, "--no-validate")
    assert result.returncode == 0, result.stderr
    html = page.read_text(encoding="utf-8")
    assert 'alt="Series: reward $5 and $6"' in html  # the series' figure was drawn
    assert "could not be drawn" not in html


def _refuse(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def test_info_json_is_strict_when_a_file_holds_nan(tmp_path: Path) -> None:
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries

    nwb = tmp_path / "nan.nwb"
    nwbfile = NWBFile("nan", "nan-1", datetime(2026, 1, 15, 10, tzinfo=timezone.utc))
    nwbfile.add_acquisition(TimeSeries(name="no_rate", data=[1.0, 2.0], unit="V", rate=float("nan")))
    nwbfile.add_acquisition(TimeSeries(name="odd_times", data=[1.0, 2.0], unit="V", timestamps=[float("nan"), 1.0]))
    with NWBHDF5IO(str(nwb), "w") as io:
        io.write(nwbfile)
    result = nwbconvert("info", nwb, "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout, parse_constant=_refuse)  # NaN, Infinity and -Infinity are refused
    series = {s["path"].rsplit("/", 1)[-1]: s for s in doc["result"]["series"]}
    assert series["no_rate"]["rate_hz"] is None
    assert series["odd_times"]["starting_time_s"] is None
