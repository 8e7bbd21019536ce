"""--backend zarr: an .nwb.zarr store with the same content as the HDF5 file, validated, written atomically."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli_runner import ENV, nwbconvert
from conftest import COMPLETE_METADATA, SAMPLE_DATA, realdata
from nwbconvert.errors import UsageError
from nwbconvert.output import PARTIAL_TAG
from nwbconvert.pipeline import ConvertOptions, convert
from nwbconvert.validate.checker import check_file
from nwbconvert.validate.findings import Severity

SET = [f"--set={kv}" for kv in COMPLETE_METADATA]
SPIKEGLX = SAMPLE_DATA / "spikeglx" / "Sample_g0"
OPENEPHYS = SAMPLE_DATA / "openephys"


@dataclass(frozen=True)
class Case:
    id: str
    path: Callable[[], Path]
    neo: str = ""  # neo rawio class reading `path` as a folder; "" when the comparison with neo is elsewhere


CASES = [
    Case("sample-spikeglx", lambda: SPIKEGLX, "SpikeGLXRawIO"),
    Case("sample-openephys", lambda: OPENEPHYS, "OpenEphysBinaryRawIO"),
    Case("neuralynx-gaps", lambda: realdata("neuralynx/mne_testing_2kHz")),  # timestamps
    Case("spike2-units", lambda: realdata("spike2/spike2py/motor_units.smr")),  # units, several rates
]
SAMPLES = [c for c in CASES if c.neo]


@dataclass(frozen=True)
class Pair:
    hdf5: Path
    zarr: Path


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Case], Pair]:
    """Each case converted once to HDF5 and once to Zarr (same options otherwise)."""
    cache: dict[str, Pair] = {}

    def get(case: Case) -> Pair:
        if case.id not in cache:
            folder = tmp_path_factory.mktemp(case.id)
            pair = Pair(folder / f"{case.id}.nwb", folder / f"{case.id}.nwb.zarr")
            convert(case.path(), pair.hdf5, ConvertOptions(set_values=COMPLETE_METADATA))
            convert(case.path(), pair.zarr, ConvertOptions(set_values=COMPLETE_METADATA, backend="zarr"))
            cache[case.id] = pair
        return cache[case.id]

    return get


@contextmanager
def read_nwb(path: Path) -> Iterator[Any]:
    """The NWBFile of an HDF5 file (pynwb) or a Zarr store (hdmf-zarr's NWBZarrIO)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if path.is_dir():
            from hdmf_zarr.nwb import NWBZarrIO

            io: Any = NWBZarrIO(str(path), mode="r")
        else:
            from pynwb import NWBHDF5IO

            io = NWBHDF5IO(str(path), mode="r")
        try:
            yield io.read()
        finally:
            io.close()


def _value(v: Any) -> Any:
    """A stored value as plain Python/numpy: containers by name, datasets read whole, bytes decoded."""
    if hasattr(v, "neurodata_type") or type(v).__module__.startswith(("pynwb", "hdmf.common")):
        return getattr(v, "name", repr(v))
    if hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, np.ndarray):
        v = v[()]
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.ndarray) and v.dtype.kind in "OSU":
        return [_value(x) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [_value(x) for x in v]
    return v


def contents(nwb: Any) -> dict[str, Any]:
    """Everything a conversion writes, keyed by object path: series (data, scaling, timing, electrodes),
    tables (every column, ragged ones per row), devices, groups, subject and session fields."""
    from hdmf.common import DynamicTable, DynamicTableRegion, VectorIndex
    from pynwb import TimeSeries

    out: dict[str, Any] = {
        "session_start_time": nwb.session_start_time,
        "session_description": nwb.session_description,
        "subject": {k: _value(getattr(nwb.subject, k)) for k in ("subject_id", "species", "sex", "age")},
        "devices": {k: (d.description, d.manufacturer) for k, d in nwb.devices.items()},
        "groups": {k: (g.description, g.location, g.device.name) for k, g in nwb.electrode_groups.items()},
    }
    provenance = json.loads(nwb.source_script)
    provenance.pop("options")  # differs in the backend
    provenance["metadata"].pop("identifier")  # a fresh UUID per conversion
    out["provenance"] = provenance
    for obj in nwb.objects.values():
        key = f"{type(obj).__name__}:{obj.name}"
        if isinstance(obj, TimeSeries):
            series = {"data": obj.data[()], "unit": obj.unit, "conversion": obj.conversion, "offset": obj.offset}
            series["rate"], series["starting_time"] = obj.rate, obj.starting_time
            series["timestamps"] = None if obj.timestamps is None else obj.timestamps[()]
            for extra in ("channel_conversion", "electrodes", "electrode", "sweep_number"):
                value = getattr(obj, extra, None)
                series[extra] = _value(value.data if isinstance(value, DynamicTableRegion) else value)
            out[key] = series
        elif isinstance(obj, DynamicTable):
            table: dict[str, Any] = {"id": obj.id.data[()]}
            for name in obj.colnames:
                column = obj[name]
                if isinstance(column, VectorIndex):
                    table[name] = [_value(np.asarray(column.get(i))) for i in range(len(column))]
                elif isinstance(column, DynamicTableRegion):
                    table[name] = _value(column.data)
                else:
                    table[name] = _value(column.data)
            out[key] = table
    return out


def assert_same(a: Any, b: Any, where: str = "") -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{where}: {sorted(set(a) ^ set(b))}"
        for k in a:
            assert_same(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        np.testing.assert_array_equal(a, b, err_msg=where)
    else:
        assert a == b or (a != a and b != b), f"{where}: {a!r} != {b!r}"  # NaN equals NaN


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_zarr_store_holds_what_the_hdf5_file_holds(case: Case, converted: Callable[[Case], Pair]) -> None:
    pair = converted(case)
    assert pair.zarr.is_dir() and (pair.zarr / ".zgroup").is_file()
    with read_nwb(pair.hdf5) as h5, read_nwb(pair.zarr) as zarr:
        expected, got = contents(h5), contents(zarr)
    assert any(k.split(":")[0].endswith("Series") for k in expected)  # something was compared
    assert_same(expected, got)


def test_cases_cover_timestamps_units_and_events(converted: Callable[[Case], Pair]) -> None:
    """The comparison above meets every kind of dataset the writer wraps differently per backend."""
    found: set[str] = set()
    for case in CASES:
        with read_nwb(converted(case).zarr) as nwb:
            items = contents(nwb)
        found |= {k.split(":")[0] for k in items}
        if any(isinstance(v, dict) and v.get("timestamps") is not None for v in items.values()):
            found.add("timestamps")
    assert {"timestamps", "Units", "EventsTable", "ElectricalSeries", "TimeSeries", "ElectrodesTable"} <= found, found


def _neo_streams(case: Case) -> tuple[Any, dict[str, tuple[int, Any]]]:
    import neo.rawio

    rawio = getattr(neo.rawio, case.neo)(dirname=str(case.path()))
    rawio.parse_header()
    h = rawio.header
    streams = {}
    for i, s in enumerate(h["signal_streams"]):
        chans = h["signal_channels"][h["signal_channels"]["stream_id"] == s["id"]]
        streams[str(s["name"])] = (i, chans)
    return rawio, streams


@pytest.mark.parametrize("case", SAMPLES, ids=[c.id for c in SAMPLES])
def test_zarr_samples_rate_and_scaling_equal_neo(case: Case, converted: Callable[[Case], Pair]) -> None:
    """Read back with NWBZarrIO: raw samples, rate, start and scaled values are neo's."""
    from nwbconvert.units import volt_factor

    rawio, streams = _neo_streams(case)
    with read_nwb(converted(case).zarr) as nwb:
        provenance = json.loads(nwb.source_script)
        assert provenance["options"]["backend"] == "zarr"
        for name, info in provenance["series"].items():
            lfp = nwb.processing["ecephys"]["LFP"].electrical_series if "ecephys" in nwb.processing else {}
            series = nwb.acquisition[name] if name in nwb.acquisition else lfp[name]
            stream_index, chans = streams[info["stream"]]
            ids = [str(c) for c in chans["id"]]
            idx = np.array([ids.index(c) for c in info["channel_ids"]])
            raw = rawio.get_analogsignal_chunk(0, 0, None, None, stream_index, idx)
            data = series.data[()]
            assert data.dtype == raw.dtype, name
            np.testing.assert_array_equal(data, raw, err_msg=name)
            assert series.rate == rawio.get_signal_sampling_rate(stream_index)
            assert series.starting_time == rawio.get_signal_t_start(0, 0, stream_index)
            if series.unit == "n.a.":
                continue
            units = {str(u) for u in chans["units"][idx]}
            assert len(units) == 1
            factor = volt_factor(units.pop()) or 1.0
            channel_conversion = getattr(series, "channel_conversion", None)
            gains = channel_conversion[()][None, :] if channel_conversion is not None else 1.0
            gain = series.conversion * gains
            scaled = data.astype("float64") * gain + series.offset
            neo_scaled = rawio.rescale_signal_raw_to_float(
                raw, dtype="float64", stream_index=stream_index, channel_indexes=idx
            )
            np.testing.assert_allclose(scaled, neo_scaled * factor, rtol=1e-12, atol=1e-15, err_msg=name)


@pytest.mark.parametrize("case", SAMPLES, ids=[c.id for c in SAMPLES])
def test_chunks_and_codecs_match_the_hdf5_layout(case: Case, converted: Callable[[Case], Pair]) -> None:
    """Same chunk shapes as HDF5 (writer/chunking.py); gzip = shuffle + deflate at the same level."""
    import h5py
    import zarr
    from numcodecs import GZip, Shuffle

    pair = converted(case)
    store = zarr.open_group(str(pair.zarr), mode="r")
    with h5py.File(pair.hdf5, "r") as f:
        for name, group in f["acquisition"].items():
            expected = group["data"]
            array = store[f"acquisition/{name}/data"]
            assert array.chunks == expected.chunks, name
            assert array.compressor == GZip(level=expected.compression_opts), name
            assert array.filters == [Shuffle(elementsize=expected.dtype.itemsize)], name


def test_validate_store_exits_0_with_the_findings_of_the_hdf5_file(converted: Callable[[Case], Pair]) -> None:
    pair = converted(CASES[0])
    result = nwbconvert("validate", pair.zarr, "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)["result"]
    assert [f["file"] for f in report["files"]] == [str(pair.zarr)]
    findings = report["files"][0]["findings"]
    assert not [f for f in findings if f["severity"] == "error"]
    hdf5 = json.loads(nwbconvert("validate", pair.hdf5, "--format", "json").stdout)["result"]["files"][0]["findings"]
    assert sorted((f["check_id"], f["location"]) for f in findings) == sorted(
        (f["check_id"], f["location"]) for f in hdf5
    )


def test_folder_with_a_file_and_a_store_is_two_files(converted: Callable[[Case], Pair]) -> None:
    pair = converted(CASES[1])
    assert sum(1 for _ in pair.zarr.rglob("*")) > 20  # a walk that entered the store would find its parts
    result = nwbconvert("validate", pair.zarr.parent, "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)["result"]
    assert sorted(f["file"] for f in report["files"]) == sorted([str(pair.hdf5), str(pair.zarr)])
    assert report["summary"]["files"] == 2


def test_info_summarises_a_store_as_it_does_the_hdf5_file(converted: Callable[[Case], Pair]) -> None:
    pair = converted(CASES[3])  # Spike2: several series, rates and units
    results = [nwbconvert("info", path, "--json") for path in (pair.hdf5, pair.zarr)]
    assert [r.returncode for r in results] == [0, 0], results[1].stderr
    hdf5, zarr = (json.loads(r.stdout)["result"] for r in results)
    assert zarr["path"] == str(pair.zarr) and zarr["size_bytes"] > 0
    same = ("series", "n_units", "n_electrodes", "subject", "session_start_time", "tables", "electrode_groups")
    for key in same:
        assert zarr[key] == hdf5[key], key
    assert len(hdf5["series"]) > 1 and hdf5["n_units"]
    assert zarr["provenance"]["options"]["backend"] == "zarr"
    plain = nwbconvert("info", pair.zarr)
    assert plain.returncode == 0 and "converted by nwbconvert" in plain.stdout


def test_info_of_a_folder_that_is_no_store_is_a_source_error(tmp_path: Path) -> None:
    result = nwbconvert("info", tmp_path)
    assert result.returncode == 3
    assert "not an NWB Zarr store" in result.stderr and "Traceback" not in result.stderr


@pytest.fixture()
def store_copy(converted: Callable[[Case], Pair], tmp_path: Path) -> Path:
    copy = tmp_path / "copy.nwb.zarr"
    shutil.copytree(converted(CASES[1]).zarr, copy)
    assert not check_file(copy).has_errors
    return copy


def _errors(path: Path) -> list[str]:
    return [f.check_id for f in check_file(path).findings if f.severity is Severity.ERROR]


def test_damaged_store_is_a_damaged_file(store_copy: Path) -> None:
    (store_copy / ".zmetadata").write_text('{"metadata": {')  # cut short, as by an interrupted copy
    assert _errors(store_copy) == ["file.damaged"]
    result = nwbconvert("validate", store_copy, "--format", "jsonl")
    assert result.returncode == 1
    assert json.loads(result.stdout.splitlines()[0])["check_id"] == "file.damaged"


def test_store_missing_chunks_is_truncated(store_copy: Path) -> None:
    data = store_copy / "acquisition" / "ElectricalSeriesRhythmData" / "data"
    chunks = [p for p in data.iterdir() if not p.name.startswith(".")]
    chunks[0].unlink()
    findings = check_file(store_copy).findings
    assert [f.check_id for f in findings] == ["file.truncated"]
    assert "/acquisition/ElectricalSeriesRhythmData/data" in findings[0].message


def test_folder_that_is_no_store_is_not_zarr(tmp_path: Path) -> None:
    fake = tmp_path / "fake.nwb.zarr"
    fake.mkdir()
    (fake / "notes.txt").write_text("hello")
    assert _errors(fake) == ["file.not_zarr"]


class _FailAfter:
    """A progress sink that raises once samples are being written."""

    def __init__(self) -> None:
        self.seen = 0

    def start(self, total_bytes: int) -> None:
        pass

    def advance(self, n_bytes: int) -> None:
        self.seen += n_bytes
        raise RuntimeError("disk exploded")


def test_failed_zarr_conversion_leaves_nothing(tmp_path: Path) -> None:
    sink = _FailAfter()
    with pytest.raises(RuntimeError):
        convert(
            OPENEPHYS, tmp_path / "out.nwb.zarr", ConvertOptions(set_values=COMPLETE_METADATA, backend="zarr"), sink
        )
    assert sink.seen > 0
    assert list(tmp_path.iterdir()) == []


def test_killed_zarr_conversion_leaves_no_store_and_the_next_run_cleans_up(tmp_path: Path) -> None:
    from nwbconvert.synthetic.spikeglx import write_spikeglx_run

    source = write_spikeglx_run(tmp_path / "src", seconds=20.0, n_channels=96).folder
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "run.nwb.zarr"
    cmd = [sys.executable, "-m", "nwbconvert", "convert", str(source), "-o", str(out), "--backend", "zarr", *SET]
    proc = subprocess.Popen([*cmd, "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    deadline = time.monotonic() + 120
    partial: list[Path] = []
    while not partial:
        assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        partial = [p for p in out_dir.iterdir() if PARTIAL_TAG in p.name and (p / "acquisition").is_dir()]
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    assert not out.exists()
    assert partial[0].is_dir() and partial[0].name.startswith(".") and partial[0].name.endswith(".nwb.zarr")
    rerun = nwbconvert("convert", SPIKEGLX, "-o", out, "--backend", "zarr", *SET, "-q")
    assert rerun.returncode == 0, rerun.stderr
    assert [p.name for p in out_dir.iterdir()] == ["run.nwb.zarr"]  # the killed run's store is gone


def test_overwrite_replaces_a_store(tmp_path: Path) -> None:
    out = tmp_path / "out.nwb.zarr"
    options = ConvertOptions(set_values=COMPLETE_METADATA, backend="zarr", stub_seconds=0.1)
    first = convert(OPENEPHYS, out, options)
    assert first.written_bytes == sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    with pytest.raises(Exception, match="already exists"):
        convert(OPENEPHYS, out, options)
    identifier = _identifier(out)
    convert(OPENEPHYS, out, ConvertOptions(set_values=COMPLETE_METADATA, backend="zarr", overwrite=True))
    assert _identifier(out) != identifier
    assert [p.name for p in tmp_path.iterdir()] == ["out.nwb.zarr"]
    assert not _errors(out)


def _identifier(store: Path) -> str:
    import zarr

    return str(zarr.open_group(str(store), mode="r")["identifier"][0])


@pytest.mark.parametrize(("compression", "codec"), [("blosc-zstd", "blosc"), ("none", None)])
def test_other_codecs_keep_the_samples(compression: str, codec: str | None, tmp_path: Path) -> None:
    import zarr

    out = tmp_path / "out.nwb.zarr"
    options = ConvertOptions(set_values=COMPLETE_METADATA, backend="zarr", compression=compression, jobs=1)
    convert(OPENEPHYS, out, options)
    array = zarr.open_group(str(out), mode="r")["acquisition/ElectricalSeriesRhythmData/data"]
    assert (array.compressor.codec_id if array.compressor else None) == codec
    if codec == "blosc":
        assert array.compressor.cname == "zstd" and array.compressor.clevel == 5
    with read_nwb(out) as nwb:
        np.testing.assert_array_equal(array[()], nwb.acquisition["ElectricalSeriesRhythmData"].data[()])
    reference = tmp_path / "ref.nwb"
    convert(OPENEPHYS, reference, ConvertOptions(set_values=COMPLETE_METADATA))
    with read_nwb(reference) as nwb:
        np.testing.assert_array_equal(array[()], nwb.acquisition["ElectricalSeriesRhythmData"].data[()])


def test_lzf_with_zarr_is_a_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "out.nwb.zarr"
    result = nwbconvert("convert", OPENEPHYS, "-o", out, "--backend", "zarr", "--compression", "lzf", *SET)
    assert result.returncode == 2
    assert "lzf" in result.stderr and "gzip" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("backend", "name", "suggestion"),
    [("zarr", "out.nwb", "out.nwb.zarr"), ("hdf5", "out.nwb.zarr", "--backend zarr"), ("parquet", "x.nwb", "hdf5")],
)
def test_backend_and_suffix_must_agree(backend: str, name: str, suggestion: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=suggestion):
        convert(OPENEPHYS, tmp_path / name, ConvertOptions(set_values=COMPLETE_METADATA, backend=backend))
    result = nwbconvert("convert", OPENEPHYS, "-o", tmp_path / name, "--backend", backend, *SET)
    assert result.returncode == 2 and suggestion in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_intracellular_source_with_zarr_is_a_usage_error(tmp_path: Path) -> None:
    """The icephys tables' compound references need pickled data in Zarr: refused before anything is written."""
    source = realdata("abf/05210017_vc_abf1.abf")
    with pytest.raises(UsageError, match="--backend hdf5"):
        convert(source, tmp_path / "abf.nwb.zarr", ConvertOptions(set_values=COMPLETE_METADATA, backend="zarr"))
    assert list(tmp_path.iterdir()) == []


def test_was_generated_by_names_nwbconvert_and_the_libraries_that_wrote_the_file(
    converted: Callable[[Case], Pair],
) -> None:
    """NWB's general/was_generated_by, read back by pynwb (and hdmf-zarr): nwbconvert, pynwb and hdmf, the
    libraries that stored the data (h5py, or hdmf-zarr and zarr) and the one that read the source (neo)."""
    from importlib.metadata import version

    pair = converted(next(c for c in CASES if c.id == "sample-openephys"))
    for path, storage in ((pair.hdf5, ("h5py",)), (pair.zarr, ("hdmf-zarr", "zarr"))):
        with read_nwb(path) as nwb:
            found = _value(nwb.was_generated_by)
        assert all(len(row) == 2 for row in found), found
        expected = {name: version(name) for name in ("nwbconvert", "pynwb", "hdmf", *storage, "neo")}
        assert dict(found) == expected, path
