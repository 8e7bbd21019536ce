"""Trials, other interval tables and behavioral signals from CSV / TSV / Parquet (the `behavior-table` reader),
converted through the real CLI and read back with pynwb against pandas' reading of the same file: IBL's real
trials table (617 trials), and generated tables with the lab's own start/stop names, wheel position, licks,
running speed, an x/y position and a table of stimulus epochs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cli_runner import nwbconvert
from conftest import realdata
from nwbconvert.synthetic import behavior_tables as synth

IBL_TRIALS = "behavior/ibl/photometry_v5/_ibl_trials.table.pqt"
DLC_H5 = "behavior/dlc/dlc2nwb/m3v1mp4DLC_resnet50_openfieldAug20shuffle1_30000.h5"
LP_CSV = "behavior/lightning_pose/mirror_mouse/CollectedData.csv"
SESSION = """session_start_time: 2020-01-01T10:00:00+00:00
subject: {subject_id: m1, species: Mus musculus, sex: F, age: P90D}
"""


def _metadata(folder: Path, extra: str = "") -> Path:
    path = folder / "session.yaml"
    path.write_text(SESSION + extra)
    return path


def _convert(source: Path, out: Path, *args: str, extra: str = "") -> Any:
    done = nwbconvert("convert", source, "-o", out, "-m", _metadata(out.parent, extra), *args)
    assert done.returncode == 0, done.stderr
    return done


def _read(path: Path) -> Any:
    from pynwb import NWBHDF5IO

    return NWBHDF5IO(str(path), "r")


def _errors(path: Path) -> list[dict[str, Any]]:
    done = nwbconvert("validate", "--json", path)
    findings = json.loads(done.stdout)["result"]["files"][0]["findings"]
    assert done.returncode == 0, done.stdout
    return [f for f in findings if f["severity"] == "error"]


def _same(got: Any, expected: pd.Series) -> None:
    """Values and dtype equal to pandas' column (NaN where pandas has NaN; text as str)."""
    values = np.asarray(got[:])
    if expected.dtype == object or pd.api.types.is_string_dtype(expected.dtype):
        assert [str(v) for v in values] == [str(v) for v in expected]
    else:
        assert values.dtype == expected.dtype, expected.name
        np.testing.assert_array_equal(values, expected.to_numpy())


def test_ibl_trials_parquet_becomes_nwbfile_trials_with_its_columns_and_descriptions(tmp_path: Path) -> None:
    source = realdata(IBL_TRIALS)
    frame = pd.read_parquet(source)
    out = tmp_path / "trials.nwb"
    described = """tables:
  trials:
    description: IBL biased choice world trials.
    columns:
      choice: "-1 turned the wheel clockwise (right), +1 counter-clockwise, 0 no response"
      goCue_times: time of the go cue tone (s)
"""
    _convert(source, out, extra=described)
    with _read(out) as io:
        trials = io.read().trials
        assert len(trials) == 617 == len(frame)
        assert trials.description == "IBL biased choice world trials."
        np.testing.assert_array_equal(trials["start_time"][:], frame["intervals_0"].to_numpy())
        np.testing.assert_array_equal(trials["stop_time"][:], frame["intervals_1"].to_numpy())
        others = [c for c in frame.columns if c not in ("intervals_0", "intervals_1")]
        assert list(trials.colnames) == ["start_time", "stop_time", *others]
        for column in others:
            _same(trials[column].data, frame[column])
        assert np.isnan(trials["contrastLeft"][:]).sum() == 259  # MANIFEST's NaN contrasts kept
        assert trials["choice"].description.startswith("-1 turned the wheel clockwise")
        assert trials["goCue_times"].description == "time of the go cue tone (s)"
        assert trials["feedbackType"].description == "The feedbackType column of _ibl_trials.table.pqt."
    assert _errors(out) == []


def test_a_column_the_metadata_names_but_the_table_lacks_is_refused(tmp_path: Path) -> None:
    extra = "tables:\n  trials:\n    columns:\n      reaction_time: not in this table\n"
    done = nwbconvert(
        "convert", realdata(IBL_TRIALS), "-o", tmp_path / "x.nwb", "-m", _metadata(tmp_path, extra), "--dry-run"
    )
    assert done.returncode == 4
    text = " ".join(done.stderr.split())
    assert "tables.trials.columns names reaction_time" in text and "goCue_times, response_times, choice" in text
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_trials_with_the_labs_own_start_and_stop_columns(tmp_path: Path, suffix: str) -> None:
    source = synth.write_trials(tmp_path / f"m1_day1_trials{suffix}", start="t_on", stop="t_off")
    frame = pd.read_csv(source, sep="\t" if suffix == ".tsv" else ",")
    out = tmp_path / "trials.nwb"
    _convert(source, out, "--set", "source.start=t_on", "--set", "source.stop=t_off")
    with _read(out) as io:
        trials = io.read().trials
        assert len(trials) == 40
        np.testing.assert_array_equal(trials["start_time"][:], frame["t_on"].to_numpy())
        np.testing.assert_array_equal(trials["stop_time"][:], frame["t_off"].to_numpy())
        assert list(trials.colnames) == ["start_time", "stop_time", "trial", "correct", "choice", "contrast",
                                         "stimulus", "block"]  # fmt: skip
        assert trials["correct"].data.dtype == bool and trials["choice"].data.dtype == np.int64
        assert trials["block"].data.dtype == np.float64 and np.isnan(trials["block"][:]).any()  # ints with gaps
        for column in ("trial", "correct", "choice", "contrast", "stimulus", "block"):
            _same(trials[column].data, frame[column])
        assert set(trials["stimulus"][:]) == {"grating", "noise", "blank"}
    assert _errors(out) == []


def test_a_table_with_neither_start_stop_nor_time_is_refused_with_its_columns(tmp_path: Path) -> None:
    source = synth.write_trials(tmp_path / "trials.csv", start="t_on", stop="t_off")
    done = nwbconvert("convert", source, "-o", tmp_path / "x.nwb", "-m", _metadata(tmp_path), "--dry-run")
    assert done.returncode == 3
    text = " ".join(done.stderr.split())
    assert str(source) in text and "Its columns: trial, t_on, t_off, correct" in text
    assert "--set source.start=COLUMN --set source.stop=COLUMN" in text and "--set source.time=COLUMN" in text
    named = nwbconvert("convert", source, "-o", tmp_path / "x.nwb", "--set", "source.start=onset", "--dry-run")
    assert named.returncode == 3 and "has no column onset" in " ".join(named.stderr.split())


def test_a_table_of_stimulus_epochs_becomes_time_intervals(tmp_path: Path) -> None:
    source = synth.write_epochs(tmp_path / "stimulus_epochs.csv")
    frame = pd.read_csv(source)
    out = tmp_path / "epochs.nwb"
    _convert(source, out)
    with _read(out) as io:
        nwb = io.read()
        assert nwb.trials is None
        table = nwb.intervals["stimulus_epochs"]
        assert type(table).__name__ == "TimeIntervals" and len(table) == 6
        np.testing.assert_array_equal(table["start_time"][:], frame["start_time"].to_numpy())
        np.testing.assert_array_equal(table["stop_time"][:], frame["stop_time"].to_numpy())
        _same(table["stimulus_name"].data, frame["stimulus_name"])
        _same(table["repeat"].data, frame["repeat"])


@pytest.fixture(scope="module")
def signals(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Path, Path, Any]]:
    """(source, NWB file, CLI result) of each generated signal table, converted once."""
    made: dict[str, tuple[Path, Path, Any]] = {}
    writers = {
        "wheel.csv": (synth.write_wheel, ("--set", "source.unit=rad")),
        "licks.csv": (synth.write_licks, ()),
        "running.csv": (synth.write_running_speed, ()),
        "body.parquet": (synth.write_body_position, ("--set", "source.unit=px")),
    }

    def get(name: str) -> tuple[Path, Path, Any]:
        if name not in made:
            folder = tmp_path_factory.mktemp(name.split(".")[0])
            write, args = writers[name]
            source = write(folder / name)
            out = folder / "out.nwb"
            made[name] = source, out, _convert(source, out, *args)
        return made[name]

    return get


def test_wheel_position_is_a_spatial_series_at_its_rate(signals: Callable[[str], tuple[Path, Path, Any]]) -> None:
    source, out, _ = signals("wheel.csv")
    frame = pd.read_csv(source)
    with _read(out) as io:
        series = io.read().processing["behavior"]["Position"]["WheelPosition"]
        assert type(series).__name__ == "SpatialSeries" and series.unit == "radians"
        assert series.timestamps is None and series.rate == pytest.approx(1000.0, rel=1e-9)
        assert series.starting_time == pytest.approx(1.25)
        np.testing.assert_array_equal(series.data[:], frame["position"].to_numpy())
        assert series.data.compression == "gzip"  # the conversion's default compression, as for traces
        assert "position of wheel.csv" in series.description
    assert _errors(out) == []


def test_licks_are_events_at_their_times(signals: Callable[[str], tuple[Path, Path, Any]]) -> None:
    source, out, done = signals("licks.csv")
    assert "Warning" not in done.stderr and "deprecated" not in done.stderr  # no library noise, nothing to say
    frame = pd.read_csv(source)
    with _read(out) as io:
        licks = io.read().processing["behavior"]["BehavioralEvents"]["Licks"]
        np.testing.assert_array_equal(licks.timestamps[:], frame["times"].to_numpy())
        assert len(licks.data) == 200 and licks.rate is None
    assert _errors(out) == []


def test_running_speed_and_pupil_are_time_series_on_their_time_stamps(
    signals: Callable[[str], tuple[Path, Path, Any]],
) -> None:
    source, out, done = signals("running.csv")
    frame = pd.read_csv(source)
    with _read(out) as io:
        behavioral = io.read().processing["behavior"]["BehavioralTimeSeries"]
        speed, pupil = behavioral["RunningSpeed"], behavioral["PupilDiameter"]
        assert speed.unit == "cm/s" and pupil.unit == "n.a."  # the unit in the column's name; none: said below
        np.testing.assert_array_equal(speed.timestamps[:], frame["timestamps"].to_numpy())
        assert speed.timestamps.compression == speed.data.compression == "gzip"
        np.testing.assert_array_equal(speed.data[:], frame["speed (cm/s)"].to_numpy())
        np.testing.assert_array_equal(pupil.data[:], frame["pupil_diameter"].to_numpy())
    warning = " ".join(done.stderr.split())
    assert "no unit is given for PupilDiameter (column pupil_diameter)" in warning and "source.unit=" in warning
    assert _errors(out) == []


def test_x_and_y_are_one_spatial_series(signals: Callable[[str], tuple[Path, Path, Any]]) -> None:
    source, out, _ = signals("body.parquet")
    frame = pd.read_parquet(source)
    with _read(out) as io:
        series = io.read().processing["behavior"]["Position"]["BodyPosition"]
        assert series.data.shape == (500, 2) and series.unit == "pixels"
        np.testing.assert_array_equal(series.data[:], frame[["x", "y"]].to_numpy())
        assert series.rate == pytest.approx(30.0)
    assert _errors(out) == []


def test_dry_run_names_each_signals_unit_and_timing(tmp_path: Path) -> None:
    source = synth.write_running_speed(tmp_path / "running.csv", n=50)
    done = nwbconvert("convert", source, "-o", tmp_path / "x.nwb", "-m", _metadata(tmp_path), "--dry-run", "--json")
    assert done.returncode == 0, done.stderr
    signals = json.loads(done.stdout)["result"]["plan"]["behavior"]["signals"]
    assert [(s["name"], s["role"], s["unit"], s["timing"]) for s in signals] == [
        ("RunningSpeed", "timeseries", "cm/s", "timestamps"),
        ("PupilDiameter", "timeseries", "n.a.", "timestamps"),
    ]
    assert "no unit is given for PupilDiameter" in " ".join(done.stderr.split())
    assert not (tmp_path / "x.nwb").exists()


def test_parquet_columns_keep_their_types_and_what_cannot_be_written_is_said(tmp_path: Path) -> None:
    from nwbconvert.readers.base import ReadOptions
    from nwbconvert.readers.behavior.table import TableReader
    from nwbconvert.readers.behavior.table_columns import typed

    source = tmp_path / "_ibl_wheelMoves.table.pqt"
    frame = pd.DataFrame(
        {
            "intervals": [np.array([0.5, 1.0]), np.array([2.0, 2.25]), np.array([3.0, 4.0])],
            "count": pd.array([1, None, 3], dtype="Int64"),
            "kind": pd.Categorical(["fast", "slow", "fast"]),
            "peaks": [[1.0, 2.0], [3.0], []],
            "moved": [True, False, True],
        }
    )
    frame.index = pd.Index([10, 11, 12], name="move_id")  # a saved index is a column, not dropped
    frame.to_parquet(source)
    session = TableReader().read(source, ReadOptions())
    (table,) = session.behavior.tables
    assert table.name == "ibl_wheelMoves" and len(table) == 3
    np.testing.assert_array_equal(table.start_s, [0.5, 2.0, 3.0])
    np.testing.assert_array_equal(table.stop_s, [1.0, 2.25, 4.0])
    columns = {c.name: c.values for c in table.columns}
    assert list(columns) == ["move_id", "count", "kind", "moved"] and list(columns["move_id"]) == [10, 11, 12]
    np.testing.assert_array_equal(columns["count"], [1.0, np.nan, 3.0])
    assert list(columns["kind"]) == ["fast", "slow", "fast"]
    assert columns["moved"].dtype == bool
    notes = {n.message.split(": ", 1)[1] for n in session.notes}
    assert "column peaks was not written: it holds lists or nested values, which a table column cannot hold." in notes
    assert "column count: whole numbers with 1 empty cell: NaN." in notes
    mixed = typed(pd.Series(["a", 2, None], dtype=object))  # as a pickle or an Excel export may give
    assert mixed.values is not None and list(mixed.values) == ["a", "2", ""]
    assert mixed.change == "values of mixed types written as text; 1 empty cell written as ''"


def test_pose_csvs_are_left_to_the_pose_readers(tmp_path: Path) -> None:
    """A DeepLabCut / Lightning Pose CSV (3-row header) is not matched here: a pose reader's content match wins,
    and --format behavior-table refuses it in plain words."""
    from nwbconvert.readers.base import Match
    from nwbconvert.readers.behavior.table import TableReader
    from nwbconvert.readers.registry import detect

    dlc_csv = tmp_path / "m3v1mp4DLC_resnet50_openfieldAug20shuffle1_30000.csv"
    pd.read_hdf(realdata(DLC_H5)).to_csv(dlc_csv)  # the real DLC table as DeepLabCut writes its CSV
    reader = TableReader()
    for path in (realdata(LP_CSV), dlc_csv):
        assert reader.probe(path) == Match.NO
        assert detect(path).name in ("deeplabcut", "lightning-pose")
    done = nwbconvert("convert", dlc_csv, "-o", tmp_path / "x.nwb", "--format", "behavior-table", "--dry-run")
    assert done.returncode == 3 and "--format deeplabcut" in " ".join(done.stderr.split())


def test_detection_by_content_only_for_the_usual_columns(tmp_path: Path) -> None:
    from nwbconvert.readers.base import Match
    from nwbconvert.readers.behavior.table import TableReader
    from nwbconvert.readers.registry import detect

    reader = TableReader()
    assert reader.probe(realdata(IBL_TRIALS)) == Match.CONTENT and detect(realdata(IBL_TRIALS)).name == reader.name
    for write in (synth.write_wheel, synth.write_licks, synth.write_epochs):
        assert reader.probe(write(tmp_path / f"{write.__name__}.csv")) == Match.CONTENT
    assert reader.probe(synth.write_trials(tmp_path / "m1_trials.tsv")) == Match.SUFFIX  # settings choose columns
    assert reader.probe(synth.write_trials(tmp_path / "own_names.csv")) == Match.NO  # --format behavior-table
    for name in ("cluster_group.tsv", "cluster_info.tsv"):  # Phy's tables beside a recording are not sources
        assert reader.probe(realdata(f"phy/changlab_ms4_export/{name}") if name == "cluster_group.tsv" else
                            _phy_info(tmp_path / name)) == Match.NO  # fmt: skip
    (tmp_path / "notes.txt").write_text("time\n1\n")
    assert reader.probe(tmp_path / "notes.txt") == Match.NO and reader.probe(tmp_path) == Match.NO


def _phy_info(path: Path) -> Path:
    path.write_text("cluster_id\tAmplitude\tch\tdepth\tfr\tgroup\tn_spikes\n0\t51.2\t3\t40.0\t2.5\tgood\t120\n")
    return path


def test_a_time_column_in_milliseconds_is_read_in_seconds(tmp_path: Path) -> None:
    from nwbconvert.errors import SourceError
    from nwbconvert.readers.base import ReadOptions
    from nwbconvert.readers.behavior.table import TableReader

    source = tmp_path / "pupil.csv"
    pd.DataFrame({"time (ms)": [0.0, 33.0, 70.0, 99.0], "pupil_area": [1.0, 2.0, 3.0, 4.0]}).to_csv(source, index=False)
    (signal,) = TableReader().read(source, ReadOptions(reader_options=(("unit", "px^2"),))).behavior.signals
    assert signal.name == "PupilArea" and signal.unit == "px^2"
    assert signal.times.timestamps_s is not None
    np.testing.assert_allclose(signal.times.timestamps_s, [0.0, 0.033, 0.070, 0.099])
    pd.DataFrame({"time (frames)": [0, 1], "v": [1.0, 2.0]}).to_csv(source, index=False)
    with pytest.raises(SourceError, match=r"gives its unit as 'frames', which is not one of time"):
        TableReader().read(source, ReadOptions())


def test_semicolon_csv_with_decimal_commas_and_a_table_of_lick_times(tmp_path: Path) -> None:
    from nwbconvert.behavior import SignalRole
    from nwbconvert.readers.base import Match, ReadOptions
    from nwbconvert.readers.behavior.table import TableReader

    reader = TableReader()
    speed = tmp_path / "treadmill.csv"
    speed.write_text("time;speed (cm/s)\n0,0;1,5\n0,01;2,25\n0,02;3,0\n")
    assert reader.probe(speed) == Match.CONTENT
    (signal,) = reader.read(speed, ReadOptions()).behavior.signals
    assert signal.name == "TreadmillSpeed" and signal.unit == "cm/s" and signal.times.rate_hz == pytest.approx(100.0)
    np.testing.assert_array_equal(signal.data, [1.5, 2.25, 3.0])
    licks = tmp_path / "session1_licks.csv"
    licks.write_text("lick_times\n0.51\n0.73\n1.92\n")
    assert reader.probe(licks) == Match.CONTENT
    (events,) = reader.read(licks, ReadOptions(reader_options=(("name", "Licks"),))).behavior.signals
    assert (events.name, events.role, events.n_samples) == ("Licks", SignalRole.EVENTS, 3)
    np.testing.assert_array_equal(events.times.timestamps_s, [0.51, 0.73, 1.92])


def test_role_and_unit_settings_per_column(tmp_path: Path) -> None:
    from nwbconvert.behavior import SignalRole
    from nwbconvert.errors import SourceError
    from nwbconvert.readers.base import ReadOptions
    from nwbconvert.readers.behavior.table import TableReader

    source = synth.write_running_speed(tmp_path / "running.csv", n=20)
    settings = (("role", "pupil_diameter=position"), ("unit", "pupil_diameter=mm,speed (cm/s)=m/s"))
    session = TableReader().read(source, ReadOptions(reader_options=settings))
    roles = {s.name: (s.role, s.unit) for s in session.behavior.signals}
    assert roles == {
        "RunningSpeed": (SignalRole.TIMESERIES, "m/s"),
        "PupilDiameter": (SignalRole.POSITION, "millimeters"),  # a position's unit in NWB Inspector's words
    }
    assert session.notes == ()  # every unit given: nothing to warn about
    with pytest.raises(SourceError, match=r"sideways is not a role\. The roles: position, timeseries, events"):
        TableReader().read(source, ReadOptions(reader_options=(("role", "sideways"),)))
    with pytest.raises(SourceError, match=r"'pupil=mm' does not name a value column.*speed \(cm/s\), pupil_diameter"):
        TableReader().read(source, ReadOptions(reader_options=(("unit", "pupil=mm"),)))


def test_damaged_copies_of_the_real_trials_table_are_refused_in_plain_words(tmp_path: Path) -> None:
    whole = realdata(IBL_TRIALS).read_bytes()
    cut, flipped = tmp_path / "cut_trials.table.pqt", tmp_path / "flipped_trials.table.pqt"
    cut.write_bytes(whole[: len(whole) // 2])
    flipped.write_bytes(whole[:4] + bytes(200) + whole[204:])
    for path, expected in ((cut, "the copy looks incomplete"), (flipped, "could not be read as trials")):
        done = nwbconvert("convert", path, "-o", tmp_path / "x.nwb", "-m", _metadata(tmp_path), "--dry-run")
        text = " ".join(done.stderr.split())
        assert done.returncode == 3 and expected in text and str(path) in text, done.stderr
        assert "Traceback" not in done.stderr and "Error:" in done.stderr and "ArrowInvalid" not in done.stderr
