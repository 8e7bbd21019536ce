"""Compression options and the parallel (direct chunk write) path: standard datasets, identical data."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, SAMPLE_DATA
from helpers import assert_valid
from nwbconvert.pipeline import ConvertOptions, convert

SPIKEGLX = SAMPLE_DATA / "spikeglx" / "Sample_g0"
AP = "acquisition/ElectricalSeriesImec0AP/data"
LF = "processing/ecephys/LFP/ElectricalSeriesImec0LF/data"
SET = [a for pair in COMPLETE_METADATA for a in ("--set", pair)]


def _neo_raw(stream: str) -> np.ndarray:
    from neo.rawio import SpikeGLXRawIO

    rawio = SpikeGLXRawIO(dirname=str(SPIKEGLX))
    rawio.parse_header()
    index = list(rawio.header["signal_streams"]["id"]).index(stream)
    chans = rawio.header["signal_channels"]
    n_sync = sum("SYNC" in str(n) for n in chans[chans["stream_id"] == stream]["name"])
    raw = rawio.get_analogsignal_chunk(0, 0, None, None, stream_index=index)
    return raw[:, : raw.shape[1] - n_sync]


def _write(tmp_path: Path, name: str, **options: object) -> Path:
    out = tmp_path / f"{name}.nwb"
    convert(SPIKEGLX, out, ConvertOptions(set_values=COMPLETE_METADATA, timezone="UTC", **options))  # type: ignore[arg-type]
    return out


def _stored_chunks(path: Path, name: str) -> list[bytes]:
    with h5py.File(path, "r") as f:
        dset = f[name]
        return [
            dset.id.read_direct_chunk(dset.id.get_chunk_info(i).chunk_offset)[1]
            for i in range(dset.id.get_num_chunks())
        ]


def test_parallel_and_serial_gzip_store_the_same_standard_dataset(tmp_path: Path) -> None:
    serial = _write(tmp_path, "serial", jobs=1, chunk_mb=0.25)
    parallel = _write(tmp_path, "parallel", jobs=2, chunk_mb=0.25)
    for name, stream in ((AP, "imec0.ap"), (LF, "imec0.lf")):
        expected = _neo_raw(stream)
        with h5py.File(serial, "r") as a, h5py.File(parallel, "r") as b:
            for dset in (a[name], b[name]):
                # plain h5py, no plugin: the standard deflate + shuffle filters, decoded to the source's samples
                assert (dset.compression, dset.compression_opts, dset.shuffle) == ("gzip", 4, True)
                assert dset.id.get_num_chunks() > 1
                np.testing.assert_array_equal(dset[()], expected)
        assert _stored_chunks(serial, name) == _stored_chunks(parallel, name)  # byte for byte
    assert_valid(parallel)


def test_direct_chunks_are_hdf5_shuffle_then_a_standard_zlib_stream(tmp_path: Path) -> None:
    """Each stored chunk is what HDF5's filters would produce: inflate with plain zlib, unshuffle, get the data."""
    import zlib

    out = _write(tmp_path, "ours", jobs=2, chunk_mb=0.25)
    with h5py.File(out, "r") as f:
        dset = f[AP]
        data, (rows, cols) = dset[()], dset.chunks
        for i in range(dset.id.get_num_chunks()):
            info = dset.id.get_chunk_info(i)
            assert info.filter_mask == 0  # every filter (shuffle, deflate) applied
            raw = zlib.decompress(dset.id.read_direct_chunk(info.chunk_offset)[1])
            chunk = np.frombuffer(raw, np.uint8).reshape(2, -1).T.copy().view("<i2").reshape(rows, cols)
            t, c = info.chunk_offset
            expected = data[t : t + rows, c : c + cols]
            np.testing.assert_array_equal(chunk[: expected.shape[0], : expected.shape[1]], expected)


@pytest.mark.parametrize(
    ("compression", "level", "filters"),
    [("none", None, (None, False)), ("lzf", None, ("lzf", True)), ("gzip", 9, ("gzip", True))],
)
def test_other_methods_decode_to_the_same_samples(
    tmp_path: Path, compression: str, level: int | None, filters: tuple[str | None, bool]
) -> None:
    out = _write(tmp_path, compression, compression=compression, compression_level=level)
    with h5py.File(out, "r") as f:
        dset = f[AP]
        assert (dset.compression, dset.shuffle) == filters
        if level is not None:
            assert dset.compression_opts == level
        np.testing.assert_array_equal(dset[()], _neo_raw("imec0.ap"))


def test_chunk_size_follows_chunk_mb(tmp_path: Path) -> None:
    out = _write(tmp_path, "small", chunk_mb=0.5, stub_seconds=2.0)
    with h5py.File(out, "r") as f:
        rows, cols = f[AP].chunks
        assert cols == 32 and rows * cols * 2 <= 0.5 * 1024 * 1024 < (rows + 1) * cols * 2 * 1.01


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--compression", "zip"], 2, "'zip' is not one of 'gzip', 'lzf', 'blosc-zstd', 'none'"),  # typer's choice
        (["--compression-level", "12"], 2, "for gzip use 0-9"),
        (["--compression", "lzf", "--compression-level", "3"], 2, "has no level"),
        (["--jobs", "0"], 2, "1 or more"),
        (["--chunk-mb", "0"], 2, "--chunk-mb"),
    ],
)
def test_bad_write_options_exit_2_before_reading(tmp_path: Path, args: list[str], code: int, words: str) -> None:
    out = tmp_path / "x.nwb"
    result = nwbconvert("convert", SPIKEGLX, "-o", out, *SET, *args)
    assert result.returncode == code and words in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_blosc_zstd_chunks_are_written_in_parallel_and_read_by_hdf5plugin(tmp_path: Path) -> None:
    """blosc-zstd chunks encoded by numcodecs on two threads: HDF5's Blosc filter (via hdf5plugin) decodes them."""
    import hdf5plugin

    serial = _write(tmp_path, "serial", compression="blosc-zstd", jobs=1, chunk_mb=0.25)
    parallel = _write(tmp_path, "parallel", compression="blosc-zstd", compression_level=7, jobs=2, chunk_mb=0.25)
    for out, level in ((serial, 5), (parallel, 7)):
        with h5py.File(out, "r") as f:
            dset = f[AP]
            assert dset.id.get_num_chunks() > 1
            filters = dset._filters
            assert str(hdf5plugin.BLOSC_ID) in filters  # the standard Blosc filter, nothing private
            assert filters[str(hdf5plugin.BLOSC_ID)][4:7] == (level, 1, 5)  # clevel, byte shuffle, zstd
            np.testing.assert_array_equal(dset[()], _neo_raw("imec0.ap"))
    assert_valid(parallel)


def test_blosc_zstd_without_hdf5plugin_names_the_extra(tmp_path: Path) -> None:
    """Where hdf5plugin is not installed (hidden from this interpreter), blosc-zstd is refused up front, exit 6."""
    import subprocess
    import sys

    out = tmp_path / "x.nwb"
    hide = "import sys; sys.modules['hdf5plugin'] = None; from nwbconvert.cli import main; main()"
    args = ["convert", str(SPIKEGLX), "-o", str(out), *SET, "--compression", "blosc-zstd"]
    result = subprocess.run([sys.executable, "-c", hide, *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 6, result.stderr
    assert "hdf5plugin" in result.stderr and "nwbconvert[blosc]" in result.stderr and not out.exists()


def test_validate_decodes_blosc_data_with_hdf5plugin_and_says_so_without_it(tmp_path: Path) -> None:
    """`nwbconvert validate` (a fresh process, where nothing imported hdf5plugin) registers its filters when a
    file needs them; where the package is missing, one warning names the filter and the extra to install."""
    import json
    import subprocess
    import sys

    out = _write(tmp_path, "blosc", compression="blosc-zstd", chunk_mb=0.25)
    run = "import sys; {hide}from nwbconvert.cli.app import app; app()"
    reports = {}
    for label, hide in (("installed", ""), ("missing", "sys.modules['hdf5plugin'] = None; ")):
        command = [sys.executable, "-c", run.format(hide=hide), "validate", str(out), "--json", "-j", "1"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
        (report,) = json.loads(result.stdout)["result"]["files"]
        reports[label] = {f["check_id"]: f for f in report["findings"]}
        assert result.returncode == 0, result.stdout  # a warning, not an error
    assert not any(check.endswith((".failed", ".filter_unavailable")) for check in reports["installed"])
    missing = reports["missing"]["file.filter_unavailable"]
    assert missing["severity"] == "warning"
    assert "Blosc" in missing["message"] and "32001" in missing["message"]
    assert "nwbconvert[blosc]" in missing["fix"] and "--compression gzip" in missing["fix"]
    # in a fresh process nothing decodes Blosc until load_missing_filters registers hdf5plugin's filters
    probe = (
        "import json, sys, h5py\n"
        "from nwbconvert.validate.checker import load_missing_filters\n"
        "f = h5py.File(sys.argv[1], 'r')\n"
        "try:\n"
        "    f[sys.argv[2]][:5]\n"
        "    before = 'decoded'\n"
        "except OSError:\n"
        "    before = 'cannot decode'\n"
        "missing = load_missing_filters(f)\n"
        "print(json.dumps([before, sorted(missing), f[sys.argv[2]][:5].tolist()]))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe, str(out), AP], capture_output=True, text=True, timeout=300)
    before, still_missing, first_rows = json.loads(result.stdout)
    assert before == "cannot decode" and still_missing == []
    np.testing.assert_array_equal(np.array(first_rows), _neo_raw("imec0.ap")[:5])


@pytest.mark.parametrize("compression", ["lzf", "blosc-zstd"])
def test_a_chosen_compression_is_written_without_library_warnings(tmp_path: Path, compression: str) -> None:
    """hdmf's advice against filters other HDF5 installations may lack is the --compression help's, not a Python
    warning with its source line on every conversion."""
    out = tmp_path / f"{compression}.nwb"
    done = nwbconvert(
        "convert", SPIKEGLX, "-o", out, *SET, "--timezone", "UTC", "--compression", compression, "--stub", "0.1"
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and "nwbfile.py" not in done.stderr, done.stderr
    with h5py.File(out, "r") as f:
        assert f[AP].compression == ("lzf" if compression == "lzf" else "unknown")  # h5py names no plugin filter
