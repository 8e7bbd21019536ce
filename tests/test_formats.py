"""The format catalog: generated vendor files convert sample for sample, `formats` shows every reader's status,
raw binary takes its layout from `--set source.*`, and the README's table is the registry's."""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, ROOT, SAMPLE_DATA, realdata
from helpers import assert_valid, provenance, scaled, series_arrays
from nwbconvert.pipeline import ConvertOptions, convert
from nwbconvert.units import volt_factor
from test_formats_real import REAL_FILES

SET = [f"--set={kv}" for kv in COMPLETE_METADATA]
RAW_SETTINGS = ("source.sampling_rate=20000", "source.dtype=int16", "source.channels=8", "source.unit=uV")


@dataclass(frozen=True)
class Generated:
    reader: str
    write: Callable[[Path], Path]  # writes the vendor files below a folder, returns the path to convert
    neo: Callable[[Path], Any]  # an unparsed neo rawio for that path, built independently of the reader
    n_channels: int
    format: str | None = None  # --format, for formats that detection never picks
    settings: tuple[str, ...] = ()


def _raw_binary(folder: Path) -> Path:
    from nwbconvert.synthetic.raw_binary import write_raw_binary

    write_raw_binary(folder / "recording.bin")
    return folder / "recording.bin"


def _neuroscope(folder: Path) -> Path:
    from nwbconvert.synthetic.neuroscope import write_neuroscope

    return write_neuroscope(folder / "session").with_suffix(".xml")


def _elan(folder: Path) -> Path:
    from nwbconvert.synthetic.elan import write_elan

    return write_elan(folder)


def _mcs_raw(folder: Path) -> Path:
    from nwbconvert.synthetic.mcs_raw import write_mcs_raw

    return write_mcs_raw(folder / "export.raw")


def _winedr(folder: Path) -> Path:
    from nwbconvert.synthetic.winedr import write_winedr

    return write_winedr(folder / "cell1.EDR")


def _neuronexus(folder: Path) -> Path:
    from nwbconvert.synthetic.neuronexus import write_neuronexus

    return write_neuronexus(folder)


def _biocam(folder: Path) -> Path:
    from nwbconvert.synthetic.biocam import write_biocam

    return write_biocam(folder / "chip.brw")


def _maxwell(folder: Path) -> Path:
    from nwbconvert.synthetic.maxwell import write_maxwell

    return write_maxwell(folder / "data.raw.h5")


def _rawio(name: str, **fixed: Any) -> Callable[[Path], Any]:
    def make(path: Path) -> Any:
        import neo.rawio

        return getattr(neo.rawio, name)(filename=str(path), **fixed)

    return make


GENERATED = {
    "raw-binary": Generated(
        "raw-binary",
        _raw_binary,
        _rawio("RawBinarySignalRawIO", dtype="int16", sampling_rate=20000.0, nb_channel=8),
        8,
        format="raw-binary",
        settings=RAW_SETTINGS,
    ),
    "neuroscope": Generated("neuroscope", _neuroscope, _rawio("NeuroScopeRawIO"), 8),
    "elan": Generated("elan", _elan, _rawio("ElanRawIO"), 6),
    "mcs-raw": Generated("mcs-raw", _mcs_raw, _rawio("RawMCSRawIO"), 6),
    "winedr": Generated("winedr", _winedr, _rawio("WinEdrRawIO"), 2),
    "neuronexus": Generated("neuronexus", _neuronexus, _rawio("NeuroNexusRawIO"), 10),
    "biocam": Generated("biocam", _biocam, _rawio("BiocamRawIO"), 16),
    "maxwell": Generated("maxwell", _maxwell, _rawio("MaxwellRawIO"), 8),
}

GENERATED_ELSEWHERE = {  # tested on their own: intracellular clamp series, imaging movies and segmentations
    "axograph": "tests/test_axograph.py",
    "hdf5-movie": "tests/test_ophys_tiff.py",
    **dict.fromkeys(("bruker", "thor", "micromanager"), "tests/test_ophys_microscopes.py"),
    **dict.fromkeys(("femtonics", "miniscope", "scanbox"), "tests/test_ophys_onephoton.py"),
    **dict.fromkeys(("cnmfe", "extract", "minian", "inscopix-cellset"), "tests/test_ophys_segmentation.py"),
    "pose-sleap-io": "tests/test_pose_readers.py",
}


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Path, Path]]:
    """(source, NWB file) per generated format, converted once with detection (or --format) and full metadata."""
    cache: dict[str, tuple[Path, Path]] = {}

    def get(key: str) -> tuple[Path, Path]:
        if key not in cache:
            case = GENERATED[key]
            folder = tmp_path_factory.mktemp(key)
            source = case.write(_mkdir(folder / "source"))
            out = folder / f"{key}.nwb"
            convert(source, out, ConvertOptions(format=case.format, set_values=COMPLETE_METADATA + case.settings))
            cache[key] = (source, out)
        return cache[key]

    return get


def _mkdir(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _parsed(case: Generated, source: Path) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rawio = case.neo(source)
        rawio.parse_header()
    return rawio


@pytest.mark.parametrize("key", list(GENERATED))
def test_generated_file_converts_sample_for_sample(key: str, converted: Callable[[str], tuple[Path, Path]]) -> None:
    case = GENERATED[key]
    source, nwb = converted(key)
    assert provenance(nwb)["reader"] == case.reader
    rawio = _parsed(case, source)
    header = rawio.header
    streams = {str(s["name"]): i for i, s in enumerate(header["signal_streams"])}
    written = 0
    for name, info in provenance(nwb)["series"].items():
        stream_index = streams[info["stream"]]
        chans = header["signal_channels"][
            header["signal_channels"]["stream_id"] == header["signal_streams"][stream_index]["id"]
        ]
        ids = [str(c) for c in chans["id"]]
        idx = np.array([ids.index(c) for c in info["channel_ids"]])
        expected = rawio.get_analogsignal_chunk(0, 0, None, None, stream_index, idx)
        got = series_arrays(nwb, name)
        assert got["data"].dtype == expected.dtype.newbyteorder("="), name  # same type, native byte order
        np.testing.assert_array_equal(got["data"], expected, err_msg=name)
        assert got["rate"] == rawio.get_signal_sampling_rate(stream_index)
        neo_scaled = rawio.rescale_signal_raw_to_float(
            expected, dtype="float64", stream_index=stream_index, channel_indexes=idx
        )
        units = [str(chans["units"][i]) for i in idx]
        if case.reader == "raw-binary":
            units = ["uV"] * len(idx)  # neo leaves the unit blank; --set source.unit=uV names it
        factors = np.array([volt_factor(u) or 1.0 for u in units])
        np.testing.assert_allclose(scaled(got), neo_scaled * factors, rtol=1e-12, atol=1e-15, err_msg=name)
        written += len(idx)
    assert written == case.n_channels
    assert_valid(nwb)


@pytest.mark.parametrize(
    ("key", "relative"),
    [
        ("neuroscope", "session/session.dat"),
        ("neuroscope", "session"),
        ("elan", "eeg_session.eeg.ent"),
        ("neuronexus", "allego_0__uid0101-10-00-00_data.xdat"),
    ],
)
def test_generated_recording_is_detected_from_its_other_files(
    key: str, relative: str, converted: Callable[[str], tuple[Path, Path]]
) -> None:
    from nwbconvert.readers.registry import detect

    source, _ = converted(key)
    folder = source.parent if key != "neuroscope" else source.parent.parent
    assert detect(folder / relative).name == GENERATED[key].reader


def test_raw_binary_is_never_detected_and_needs_its_layout(tmp_path: Path) -> None:
    from nwbconvert.synthetic.raw_binary import write_raw_binary

    source = tmp_path / "recording.dat"
    write_raw_binary(source)
    out = tmp_path / "x.nwb"
    detected = nwbconvert("convert", source, "-o", out, *SET)
    assert detected.returncode == 3 and "no reader recognises" in detected.stderr
    missing = nwbconvert("convert", source, "-o", out, "--format", "raw-binary", "--set", "source.dtype=int16", *SET)
    assert missing.returncode == 2
    assert "source.sampling_rate" in missing.stderr and "source.channels" in missing.stderr
    assert "source.dtype," not in missing.stderr  # only the missing keys are named as missing
    invalid = nwbconvert(
        "convert", source, "-o", out, "-f", "raw-binary", *SET,
        "--set=source.sampling_rate=fast", "--set=source.dtype=int12", "--set=source.channels=8",
    )  # fmt: skip
    assert invalid.returncode == 2
    assert "source.sampling_rate=fast" in invalid.stderr and "source.dtype=int12" in invalid.stderr
    uneven = nwbconvert(
        "convert", source, "-o", out, "-f", "raw-binary", *SET,
        "--set=source.sampling_rate=20000", "--set=source.dtype=int16", "--set=source.channels=7",
    )  # fmt: skip
    assert uneven.returncode == 3 and "source.channels" in uneven.stderr
    assert not out.exists()


def test_source_settings_are_refused_by_readers_that_take_none(tmp_path: Path) -> None:
    from nwbconvert.synthetic.neuroscope import write_neuroscope

    dat = write_neuroscope(tmp_path / "ns")
    result = nwbconvert("convert", dat, "-o", tmp_path / "x.nwb", "--set", "source.channels=8", *SET)
    assert result.returncode == 2 and "neuroscope" in result.stderr and "source.channels" in result.stderr


def test_raw_binary_channel_major_with_header_gain_and_offset(tmp_path: Path) -> None:
    from nwbconvert.synthetic.raw_binary import write_raw_binary

    body = tmp_path / "body.bin"
    data = write_raw_binary(body, seconds=0.5, n_channels=4, channel_major=True)
    source = tmp_path / "channel_major.bin"
    source.write_bytes(b"HEADER" * 10 + body.read_bytes())
    out = tmp_path / "x.nwb"
    settings = (
        "source.sampling_rate=20000",
        "source.dtype=<i2",
        "source.channels=4",
        "source.time_axis=1",
        "source.header_bytes=60",
        "source.gain=0.195",
        "source.offset=-3.5",
        "source.unit=uV",
    )
    convert(source, out, ConvertOptions(format="raw-binary", set_values=COMPLETE_METADATA + settings))
    got = series_arrays(out, "ElectricalSeriesSignals")
    np.testing.assert_array_equal(got["data"], data)
    assert got["rate"] == 20000.0
    np.testing.assert_allclose(scaled(got), (data * 0.195 - 3.5) * 1e-6, rtol=1e-12)
    assert_valid(out)


def test_formats_json_lists_every_reader_with_status() -> None:
    from importlib.metadata import entry_points

    result = nwbconvert("formats", "--json")
    assert result.returncode == 0
    doc = json.loads(result.stdout)
    rows = {r["name"]: r for r in doc["result"]}
    assert set(rows) == {ep.name for ep in entry_points(group="nwbconvert.readers")}
    assert {r["verified"] for r in rows.values()} <= {"real", "real-headers", "generated", "unverified"}
    for row in rows.values():
        assert row["available"] is (not row["missing"] and not row["broken"])
        assert set(row["extras"]) == {extra for _, extra in row["requires"]}
    generated = {n for n, r in rows.items() if r["verified"] == "generated"}
    # "generated" means a test below (or the one named in GENERATED_ELSEWHERE) converts one
    assert generated == {c.reader for c in GENERATED.values()} | set(GENERATED_ELSEWHERE)
    real = {n for n, r in rows.items() if r["verified"] == "real"}
    assert real == set(REAL_FILES)
    assert {"intan", "edf", "mcs-h5"} <= real
    assert {n for n, r in rows.items() if r["verified"] == "real-headers"} == {"spikeglx"}
    assert rows["raw-binary"]["source_options"][:3] == ["sampling_rate", "dtype", "channels"]
    assert rows["ced-smrx"]["requires"] == [["sonpy", "ced"]]
    table = nwbconvert("formats")
    assert "neuroscope" in table.stdout and "generated file" in table.stdout and "nwbconvert[ced]" in table.stdout
    assert "real headers" in table.stdout


def test_no_catalog_reader_claims_a_real_or_sample_file() -> None:
    """Detection stays unambiguous: the new readers match nothing in the real and sample recordings."""
    from nwbconvert.readers.base import Match
    from nwbconvert.readers.registry import readers

    modules = ("catalog", "catalog_hdf5", "si_catalog")
    catalog = {n for n, r in readers().items() if type(r).__module__.rsplit(".", 1)[-1] in modules}
    assert len(catalog) >= 15
    checked = 0
    for root in (realdata("."), SAMPLE_DATA):
        for folder, _, files in os.walk(root):
            for path in [Path(folder), *(Path(folder) / f for f in files)]:
                claims = [n for n in catalog if readers()[n].probe(path) != Match.NO]
                assert claims == [], f"{path} claimed by {claims}"
                checked += 1
    assert checked > 100


def test_missing_optional_package_exits_6_with_the_extra(tmp_path: Path) -> None:
    from nwbconvert.readers.registry import describe

    info = {i.name: i for i in describe()}["ced-smrx"]
    assert info.missing == (("sonpy", "ced"),)  # CED's sonpy is not part of the test install
    source = tmp_path / "session.smrx"
    source.write_bytes(b"\x00" * 512)
    result = nwbconvert("convert", source, "-o", tmp_path / "x.nwb", *SET)
    assert result.returncode == 6, result.stderr
    assert "nwbconvert[ced]" in result.stderr and "sonpy" in result.stderr


def test_readme_format_table_is_generated_from_the_registry() -> None:
    from nwbconvert.readers.registry import markdown_table

    readme = (ROOT / "README.md").read_text()
    found = re.search(r"<!-- formats:start -->\n(.*?)<!-- formats:end -->", readme, re.S)
    assert found is not None, "README.md lacks the <!-- formats:start/end --> markers"
    assert found.group(1) == markdown_table(), "README's format table is stale: run python scripts/format_table.py"


def test_format_table_script_rewrites_only_the_table(tmp_path: Path) -> None:
    import subprocess
    import sys

    readme = tmp_path / "README.md"
    readme.write_text("# x\n\nbefore\n<!-- formats:start -->\n| old |\n<!-- formats:end -->\nafter\n")
    script = ROOT / "scripts" / "format_table.py"
    subprocess.run([sys.executable, str(script), str(readme)], check=True, capture_output=True)
    text = readme.read_text()
    assert text.startswith("# x\n\nbefore\n<!-- formats:start -->\n| reader |")
    assert text.endswith("<!-- formats:end -->\nafter\n") and "| old |" not in text
    assert "`neuroscope`" in text
