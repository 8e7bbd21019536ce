"""Every recording converts with detection, and what pynwb reads back equals what neo reads."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import COMPLETE_METADATA, SAMPLE_DATA, realdata
from helpers import assert_valid, converted_once, provenance, scaled, series_arrays
from nwbconvert.pipeline import ConvertOptions, convert

# The units the cases' channels carry, written out here (not nwbconvert's table): voltages are stored in volts,
# everything else in its own unit, unscaled. A unit missing from both fails the test until it is placed.
# neo leaves BrainVision's empty unit fields '' and absent ones 'u': µV by the format's definition (blank_unit).
VOLTS_PER_UNIT = {"uV": 1e-6, "u": 1e-6, "mV": 1e-3, "V": 1.0}
NOT_VOLTAGES = {"", "BS", "uS", "ARU", "S", "C", "%", "L", "L/s"}  # BrainVision's and Spike2's other channels


def si_factor(unit: str) -> float:
    """What the writer multiplies neo's value in `unit` by."""
    if unit in VOLTS_PER_UNIT:
        return VOLTS_PER_UNIT[unit]
    assert unit in NOT_VOLTAGES, f"unit {unit!r}: add it to VOLTS_PER_UNIT or NOT_VOLTAGES"
    return 1.0


@dataclass(frozen=True)
class Case:
    id: str
    reader: str
    path: Callable[[], Path]
    neo: Callable[[Path], Any]  # an unparsed neo rawio for the path, built here independently
    n_streams: int
    n_channels: int
    blank_unit: str = ""  # the unit a reader documents for channels neo leaves without one


def _neo(cls_name: str, arg: str, **extra: Any) -> Callable[[Path], Any]:
    def make(path: Path) -> Any:
        import neo.rawio

        value = str(path.with_suffix("")) if arg == "stem" else str(path)
        return getattr(neo.rawio, cls_name)(**{"filename" if arg != "dirname" else "dirname": value}, **extra)

    return make


CASES = [
    Case(
        "intan", "intan", lambda: realdata("intan/IntanToNWB/example_intan_file.rhd"), _neo("IntanRawIO", "file"), 3, 6
    ),
    Case(
        "openephys-binary",
        "openephys-binary",
        lambda: realdata("openephys_binary/aind_np_multiexp"),
        _neo("OpenEphysBinaryRawIO", "dirname"),
        3,
        776,
    ),
    Case(
        "openephys-legacy",
        "openephys-legacy",
        lambda: realdata("openephys_legacy/v0.6.7_OpenEphys/Record Node 101"),
        _neo("OpenEphysRawIO", "dirname"),
        1,
        16,
    ),
    Case(
        "neuralynx",
        "neuralynx",
        lambda: realdata("neuralynx/mne_testing_2kHz"),
        _neo("NeuralynxRawIO", "dirname"),
        1,
        5,
    ),
    Case(
        "blackrock",
        "blackrock",
        lambda: realdata("blackrock/ndi_matlab/testData.ns2"),
        _neo("BlackrockRawIO", "stem"),
        1,
        33,
    ),
    Case(
        "plexon",
        "plexon",
        lambda: realdata("plexon/pyramid_plexon_sdk/16sp_lfp_with_2coords.plx"),
        _neo("PlexonRawIO", "file", progress_bar=False),
        1,
        16,
        blank_unit="mV",
    ),
    Case(
        "brainvision",
        "brainvision",
        lambda: realdata("brainvision/mne/test.vhdr"),
        _neo("BrainVisionRawIO", "file"),
        1,
        32,
        blank_unit="uV",
    ),
    Case("edf", "edf", lambda: realdata("edf/mne/test.edf"), _neo("EDFRawIO", "file"), 1, 139),
    Case("spike2", "spike2", lambda: realdata("spike2/spike2py/motor_units.smr"), _neo("Spike2RawIO", "file"), 4, 4),
    Case(
        "sample-spikeglx",
        "spikeglx",
        lambda: SAMPLE_DATA / "spikeglx" / "Sample_g0",
        _neo("SpikeGLXRawIO", "dirname"),
        5,
        68,
    ),
    Case(
        "sample-openephys",
        "openephys-binary",
        lambda: SAMPLE_DATA / "openephys",
        _neo("OpenEphysBinaryRawIO", "dirname"),
        2,
        18,
    ),
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Case], Path]:
    """Convert each case once (format detected, complete metadata) and return the NWB path."""
    return converted_once(tmp_path_factory)


def _parsed(case: Case) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rawio = case.neo(case.path())
        rawio.parse_header()
    return rawio


def _stream_channels(rawio: Any) -> dict[str, tuple[int, Any]]:
    """neo stream name -> (stream index, its channel rows)."""
    h = rawio.header
    return {
        str(s["name"]): (i, h["signal_channels"][h["signal_channels"]["stream_id"] == s["id"]])
        for i, s in enumerate(h["signal_streams"])
    }


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_detection_picks_the_right_reader(case: Case, converted: Callable[[Case], Path]) -> None:
    assert provenance(converted(case))["reader"] == case.reader


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_stream_and_channel_is_written(case: Case, converted: Callable[[Case], Path]) -> None:
    rawio = _parsed(case)
    streams = _stream_channels(rawio)
    written: dict[str, set[str]] = {}
    for series in provenance(converted(case))["series"].values():
        written.setdefault(series["stream"], set()).update(series["channel_ids"])
    assert len(streams) == case.n_streams
    assert set(written) == set(streams)
    assert sum(len(chans) for _, chans in streams.values()) == case.n_channels
    for name, (_, chans) in streams.items():
        assert written[name] == {str(c) for c in chans["id"]}, name


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_samples_rate_and_start_equal_neo(case: Case, converted: Callable[[Case], Path]) -> None:
    nwb_path = converted(case)
    rawio = _parsed(case)
    streams = _stream_channels(rawio)
    for name, info in provenance(nwb_path)["series"].items():
        stream_index, chans = streams[info["stream"]]
        ids = [str(c) for c in chans["id"]]
        idx = np.array([ids.index(c) for c in info["channel_ids"]])
        block = re.search(r"Block(\d+)$", name)
        blocks = [int(block.group(1)) - 1] if block else range(rawio.block_count())
        pieces, times = [], []
        rate = rawio.get_signal_sampling_rate(stream_index)
        for b in blocks:
            for s in range(rawio.segment_count(b)):
                raw = rawio.get_analogsignal_chunk(b, s, None, None, stream_index, idx)
                pieces.append(raw)
                times.append(rawio.get_signal_t_start(b, s, stream_index) + np.arange(raw.shape[0]) / rate)
        expected_raw = np.concatenate(pieces)
        expected_times = np.concatenate(times)
        got = series_arrays(nwb_path, name)

        assert got["data"].dtype == expected_raw.dtype, name
        np.testing.assert_array_equal(got["data"], expected_raw, err_msg=name)
        if got["rate"] is not None:
            assert got["rate"] == rate
            assert got["starting_time"] == expected_times[0]
            np.testing.assert_allclose(
                got["starting_time"] + np.arange(len(expected_times)) / got["rate"], expected_times, rtol=0, atol=1e-9
            )
        else:
            np.testing.assert_array_equal(got["timestamps"], expected_times)
        if got["unit"] == "n.a.":
            continue  # digital words (SpikeGLX sync) are stored unscaled
        neo_scaled = rawio.rescale_signal_raw_to_float(
            expected_raw, dtype="float64", stream_index=stream_index, channel_indexes=idx
        )
        units = [str(chans["units"][i]) or case.blank_unit for i in idx]
        factors = np.array([si_factor(u) for u in units])
        np.testing.assert_allclose(scaled(got), neo_scaled * factors, rtol=1e-12, atol=1e-15, err_msg=name)
        if got["channel_conversion"] is not None and len(set(units)) == 1:
            # gains stored bit for bit: raw * channel_conversion is neo's value in neo's unit
            np.testing.assert_array_equal(got["channel_conversion"], chans["gain"][idx])


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_output_passes_pynwb_and_inspector(case: Case, converted: Callable[[Case], Path]) -> None:
    assert_valid(converted(case))


def test_mcs_h5_equals_spikeinterface(tmp_path: Path) -> None:
    from spikeinterface.extractors import read_mcsh5

    source = realdata("mcs_h5/2014-02-27T08-30-03W8SpikeCutoutsAndTimestampsAndRawData.h5")
    out = tmp_path / "mcs.nwb"
    convert(source, out, ConvertOptions(set_values=COMPLETE_METADATA))
    assert provenance(out)["reader"] == "mcs-h5"
    rec = read_mcsh5(source)
    got = series_arrays(out, "ElectricalSeriesStream0")
    assert got["data"].shape == (rec.get_num_samples(), 8)
    assert got["rate"] == rec.get_sampling_frequency() == 20000.0
    np.testing.assert_array_equal(got["data"], rec.get_traces(return_in_uV=False))
    np.testing.assert_allclose(scaled(got), rec.get_traces(return_in_uV=True).astype("float64") * 1e-6, rtol=1e-6)
    assert_valid(out)
