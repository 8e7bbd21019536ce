"""Events and units stored in the source files reach the NWB file exactly as neo reads them."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import COMPLETE_METADATA, realdata
from helpers import assert_valid, provenance
from nwbconvert.pipeline import ConvertOptions, convert


@dataclass(frozen=True)
class Case:
    id: str
    path: str
    neo: Callable[[Path], Any]
    event_channels: int  # what the MANIFEST says neo sees
    units: int


def _neo(cls_name: str, arg: str, **extra: Any) -> Callable[[Path], Any]:
    def make(path: Path) -> Any:
        import neo.rawio

        value = str(path.with_suffix("")) if arg == "stem" else str(path)
        return getattr(neo.rawio, cls_name)(**{"dirname" if arg == "dirname" else "filename": value}, **extra)

    return make


CASES = [
    Case("blackrock", "blackrock/ndi_matlab/testData.nev", _neo("BlackrockRawIO", "stem"), 8, 32),
    Case(
        "plexon",
        "plexon/pyramid_plexon_sdk/16sp_lfp_with_2coords.plx",
        _neo("PlexonRawIO", "file", progress_bar=False),
        49,
        8,
    ),
    Case("openephys", "openephys_binary/aind_np_multiexp", _neo("OpenEphysBinaryRawIO", "dirname"), 4, 0),
    Case("neuralynx", "neuralynx/mne_testing_2kHz", _neo("NeuralynxRawIO", "dirname"), 1, 0),
    Case("brainvision", "brainvision/mne/test.vhdr", _neo("BrainVisionRawIO", "file"), 6, 0),
    Case("edf", "edf/mne/test.edf", _neo("EDFRawIO", "file"), 2, 0),
    Case("spike2", "spike2/spike2py/motor_units.smr", _neo("Spike2RawIO", "file"), 0, 2),
]


@dataclass(frozen=True)
class Written:
    path: Path
    rawio: Any


WITH_WAVEFORMS = [c for c in CASES if c.units]
LINKED = [c for c in CASES if c.id in ("blackrock", "plexon")]  # the sources that say which channel a unit is on


def _over(cases: list[Case]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("written", cases, ids=[c.id for c in cases], indirect=True)


@pytest.fixture(scope="module")
def written(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Case, Written]:
    case: Case = request.param
    source = realdata(case.path)
    out = tmp_path_factory.mktemp(case.id) / f"{case.id}.nwb"
    convert(source, out, ConvertOptions(set_values=COMPLETE_METADATA))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rawio = case.neo(source)
        rawio.parse_header()
    return case, Written(out, rawio)


def _segments(rawio: Any) -> list[tuple[int, int]]:
    return [(b, s) for b in range(rawio.block_count()) for s in range(rawio.segment_count(b))]


@_over(CASES)
def test_every_event_channel_is_accounted_for(written: tuple[Case, Written]) -> None:
    case, w = written
    from pynwb import NWBHDF5IO

    declared = provenance(w.path)["event_channels"]
    assert len(declared) == case.event_channels == len(w.rawio.header["event_channels"])
    with NWBHDF5IO(str(w.path), "r") as io:
        nwb = io.read()
        tables = dict(nwb.events or {})
        # every channel with events is a table; channels the source declares but never used are listed only
        assert sorted(tables) == sorted(name for name, info in declared.items() if info["events"] > 0)
        for name, info in declared.items():
            times, labels, durations = _neo_events(w.rawio, info["source_index"])
            assert info["source_name"] == str(w.rawio.header["event_channels"]["name"][info["source_index"]])
            assert info["events"] == len(times)
            if not len(times):
                continue
            df = tables[name].to_dataframe()
            order = np.argsort(times, kind="stable")
            np.testing.assert_array_equal(df["timestamp"].to_numpy(), times[order])
            assert list(df["label"]) == [str(x) for x in labels[order]]
            if durations is not None:
                expected = np.where(durations[order] < 0, np.nan, durations[order])
                np.testing.assert_array_equal(df["duration"].to_numpy(), expected)
            if w.rawio.block_count() > 1:
                assert set(df["block"]) <= set(range(1, w.rawio.block_count() + 1))


def _neo_events(rawio: Any, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    times, labels, durations = [], [], []
    for block, seg in _segments(rawio):
        ts, dur, lab = rawio.get_event_timestamps(block_index=block, seg_index=seg, event_channel_index=index)
        times.append(rawio.rescale_event_timestamp(ts, dtype="float64", event_channel_index=index))
        labels.append(np.asarray(lab))
        if dur is not None:
            durations.append(rawio.rescale_epoch_duration(dur, dtype="float64", event_channel_index=index))
    return np.concatenate(times), np.concatenate(labels), np.concatenate(durations) if durations else None


@_over(CASES)
def test_units_equal_neo_spike_trains(written: tuple[Case, Written]) -> None:
    case, w = written
    from pynwb import NWBHDF5IO

    spike_channels = w.rawio.header["spike_channels"]
    assert len(spike_channels) == case.units
    with NWBHDF5IO(str(w.path), "r") as io:
        nwb = io.read()
        if case.units == 0:
            assert nwb.units is None
            return
        units = nwb.units
        assert len(units) == case.units
        assert list(units["unit_name"][:]) == [str(n) for n in spike_channels["name"]]
        assert set(units["sorting"][:]) == {case.id}
        for i in range(case.units):
            expected = np.concatenate(
                [
                    w.rawio.rescale_spike_timestamp(
                        w.rawio.get_spike_timestamps(block_index=b, seg_index=s, spike_channel_index=i), "float64"
                    )
                    for b, s in _segments(w.rawio)
                ]
            )
            np.testing.assert_array_equal(units["spike_times"][i], expected)
        assert units.resolution == pytest.approx(1.0 / float(spike_channels["wf_sampling_rate"][0]))


@_over(WITH_WAVEFORMS)
def test_mean_waveforms_are_the_stored_waveforms_in_volts(written: tuple[Case, Written]) -> None:
    case, w = written
    from pynwb import NWBHDF5IO

    factor = {"blackrock": 1e-6, "plexon": 1e-3, "spike2": 1.0}[case.id]  # uV, mV (plx >= 105), Volt
    with NWBHDF5IO(str(w.path), "r") as io:
        units = io.read().units
        assert units.waveform_unit == "volts"
        for i, row in enumerate(w.rawio.header["spike_channels"]):
            raw = np.concatenate(
                [
                    w.rawio.get_spike_raw_waveforms(block_index=b, seg_index=s, spike_channel_index=i)
                    for b, s in _segments(w.rawio)
                ]
            )
            mean = (raw.astype("float64") * row["wf_gain"] + row["wf_offset"]).mean(axis=0)[0] * factor
            np.testing.assert_allclose(units["waveform_mean"][i], mean, rtol=1e-9, atol=1e-15)


@_over(LINKED)
def test_units_link_to_the_channel_they_were_recorded_on(written: tuple[Case, Written]) -> None:
    _, w = written
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(w.path), "r") as io:
        units = io.read().units
        for i, name in enumerate(w.rawio.header["spike_channels"]["name"]):
            linked = units["electrodes"][i]
            assert len(linked) == 1
            channel_name = linked["channel_name"].iloc[0]
            # Blackrock ch3#0 -> 'lfp 3'; Plexon SPK03 -> FP03
            number = int("".join(c for c in str(name).split("#")[0] if c.isdigit()))
            assert int("".join(c for c in channel_name if c.isdigit())) == number


@_over(CASES)
def test_output_validates(written: tuple[Case, Written]) -> None:
    assert_valid(written[1].path)
