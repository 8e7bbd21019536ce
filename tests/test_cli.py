"""The command line as a user meets it: commands, JSON output, exit codes, one-paragraph errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from cli_runner import ENV, nwbconvert
from conftest import COMPLETE_METADATA, SAMPLE_DATA, realdata

SET = [f"--set={kv}" for kv in COMPLETE_METADATA]
SPIKEGLX = SAMPLE_DATA / "spikeglx" / "Sample_g0"
OE = SAMPLE_DATA / "openephys"


def test_version_and_module_entry_point() -> None:
    from nwbconvert import __version__

    by_module = nwbconvert("--version")
    assert by_module.returncode == 0 and by_module.stdout.strip() == f"nwbconvert {__version__}"
    script = shutil.which("nwbconvert", path=str(Path(sys.executable).parent))
    assert script is not None
    by_script = subprocess.run([script, "--version"], capture_output=True, text=True, env=ENV)
    assert by_script.stdout == by_module.stdout


def test_help_imports_no_heavy_module() -> None:
    """`nwbconvert --help` stays instant: numpy, h5py, pynwb, neo, pydantic, even importlib.metadata (the
    version lookup) are imported only by the commands that need them."""
    heavy = ("importlib.metadata", "numpy", "h5py", "pynwb", "neo", "pandas", "pydantic", "yaml")
    probe = f"import sys; from nwbconvert.cli.app import app; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_help_lists_every_command() -> None:
    result = nwbconvert("--help")
    assert result.returncode == 0
    for command in ("convert", "info", "formats"):
        assert command in result.stdout


def test_formats_json_lists_registered_readers() -> None:
    result = nwbconvert("formats", "--json")
    assert result.returncode == 0
    doc = json.loads(result.stdout)
    assert doc["kind"] == "formats"
    names = {r["name"]: r for r in doc["result"]}
    expected = {"spikeglx", "openephys-binary", "openephys-legacy", "intan", "blackrock", "neuralynx", "plexon"}
    assert expected | {"spike2", "brainvision", "edf", "mcs-h5"} <= set(names)
    assert names["edf"]["available"] is True  # pyedflib is part of the test install
    assert ".smr" in names["spike2"]["suffixes"]


def test_readers_come_from_the_entry_point_group() -> None:
    from importlib.metadata import entry_points

    group = {ep.name for ep in entry_points(group="nwbconvert.readers")}
    assert {"spikeglx", "intan", "mcs-h5"} <= group


def test_convert_then_info(tmp_path: Path) -> None:
    out = tmp_path / "sub-m1_ses-1_ecephys.nwb"
    result = nwbconvert("convert", SPIKEGLX, "-o", out, *SET)
    assert result.returncode == 0, result.stderr
    assert "Wrote" in result.stdout and "Writing" in result.stderr  # results on stdout, progress on stderr
    info = nwbconvert("info", out, "--json")
    assert info.returncode == 0, info.stderr
    doc = json.loads(info.stdout)["result"]
    series = {s["path"]: s for s in doc["series"]}
    ap = series["acquisition/ElectricalSeriesImec0AP"]
    assert ap["shape"] == [90000, 32] and ap["rate_hz"] == 30000.0 and ap["compression"].startswith("gzip")
    assert series["acquisition/TimeSeriesNIDQ"]["shape"] == [75000, 2]
    assert doc["subject"]["species"] == "Mus musculus"
    assert doc["n_electrodes"] == 32  # AP and LF share the 32 contacts
    assert doc["provenance"]["reader"] == "spikeglx"
    assert {f["path"].rsplit("/", 1)[-1] for f in doc["provenance"]["files"]} >= {"Sample_g0_t0.nidq.bin"}
    assert all(f["checksum"].startswith("blake2b-128-sampled:") for f in doc["provenance"]["files"])
    text = nwbconvert("info", out)
    assert "ElectricalSeriesImec0LF" in text.stdout and "imec0 (32)" in text.stdout


def test_probe_geometry_reaches_the_electrodes_table(tmp_path: Path) -> None:
    import probeinterface

    out = tmp_path / "o.nwb"
    assert nwbconvert("convert", SPIKEGLX, "-o", out, *SET, "-q").returncode == 0
    probe = probeinterface.read_spikeglx(SPIKEGLX / "Sample_g0_imec0" / "Sample_g0_t0.imec0.ap.meta")
    with h5py.File(out, "r") as f:
        table = f["general/extracellular_ephys/electrodes"]
        xy = np.column_stack([table["rel_x"][()], table["rel_y"][()]])
        names = [n.decode() for n in table["channel_name"][()]]
    np.testing.assert_array_equal(xy, probe.contact_positions)
    assert names[:3] == ["AP0", "AP1", "AP2"]


def test_dry_run_writes_nothing_and_shows_the_plan(tmp_path: Path) -> None:
    out = tmp_path / "o.nwb"
    result = nwbconvert("convert", OE, "-o", out, *SET, "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)["result"]["plan"]
    assert [s["name"] for s in plan["series"]] == ["ElectricalSeriesRhythmData", "TimeSeriesRhythmDataADC"]
    assert plan["series"][0]["n_channels"] == 16 and plan["series"][0]["duration_s"] == 3.0
    assert 0 < plan["estimated_bytes"] < plan["raw_bytes"]
    assert plan["metadata"]["subject"]["subject_id"] == "m1"
    assert list(tmp_path.iterdir()) == []
    text = nwbconvert("convert", OE, *SET, "--dry-run")
    assert text.returncode == 0 and "Dry run: nothing written" in text.stdout


def test_stream_selection_and_stub(tmp_path: Path) -> None:
    out = tmp_path / "o.nwb"
    result = nwbconvert("convert", SPIKEGLX, "-o", out, *SET, "--stream", "imec0.lf", "--stub", "0.5", "-q")
    assert result.returncode == 0, result.stderr
    with h5py.File(out, "r") as f:
        assert "acquisition" not in f or list(f["acquisition"]) == []
        assert list(f["processing/ecephys/LFP"]) == ["ElectricalSeriesImec0LF"]  # LF bands are processed LFP
        assert f["processing/ecephys/LFP/ElectricalSeriesImec0LF/data"].shape == (1250, 32)  # 0.5 s at 2500 Hz
    bad = nwbconvert("convert", SPIKEGLX, "-o", tmp_path / "x.nwb", *SET, "--stream", "imec9.ap")
    assert bad.returncode == 2 and "imec0.ap" in bad.stderr  # lists what exists


def test_single_bin_file_converts_only_its_stream(tmp_path: Path) -> None:
    out = tmp_path / "o.nwb"
    source = SPIKEGLX / "Sample_g0_t0.nidq.bin"
    assert nwbconvert("convert", source, "-o", out, *SET, "-q").returncode == 0
    with h5py.File(out, "r") as f:
        assert list(f["acquisition"]) == ["TimeSeriesNIDQ"]


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["convert", "/no/such/recording", "-o", "x.nwb"], 3, "no such file"),
        (["convert", "{tmp}/notes.txt", "-o", "{tmp}/x.nwb"], 3, "no reader recognises"),
        (["convert", str(OE), "-o", "{tmp}/x.nwb", "--format", "nope"], 2, "Known formats"),
        (["convert", str(OE), "-o", "{tmp}/x.nwb", "--format", "intan"], 3, "could not be read as Intan"),
        (["convert", str(OE)], 2, "-o/--output"),
        (["info", "{tmp}/notes.txt"], 3, "not an NWB file"),
        (["convert", str(OE), "-o", "{tmp}/x.nwb", "--stub", "-1"], 2, "stub"),
    ],
)
def test_errors_are_one_paragraph_with_exit_codes(args: list[str], code: int, words: str, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a recording\n")
    result = nwbconvert(*[a.format(tmp=tmp_path) for a in args], *([] if args[0] == "info" else SET))
    assert result.returncode == code, result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    debug = nwbconvert(*[a.format(tmp=tmp_path) for a in args], "--debug")
    assert debug.returncode == code


def test_debug_adds_the_traceback(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    result = nwbconvert("convert", OE, "-o", tmp_path / "x.nwb", "--format", "intan", *SET, "--debug")
    assert result.returncode == 3 and "Traceback" in result.stderr


def test_ambiguous_detection_lists_candidates(tmp_path: Path) -> None:
    # a folder holding both an Open Ephys binary recording and a SpikeGLX run
    shutil.copytree(OE, tmp_path / "oe")
    shutil.copytree(SPIKEGLX, tmp_path / "sglx")
    result = nwbconvert("convert", tmp_path, "-o", tmp_path / "x.nwb", *SET)
    assert result.returncode == 3
    assert "openephys-binary" in result.stderr and "spikeglx" in result.stderr and "--format" in result.stderr
    chosen = nwbconvert("convert", tmp_path / "oe", "-o", tmp_path / "x.nwb", *SET, "-q")
    assert chosen.returncode == 0


def test_missing_optional_dependency_names_the_extra(tmp_path: Path) -> None:
    source = realdata("edf/mne/test.edf")
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import importlib.abc, sys\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'pyedflib':\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    env = ENV | {"PYTHONPATH": str(blocker)}
    result = subprocess.run(
        [sys.executable, "-m", "nwbconvert", "convert", str(source), "-o", str(tmp_path / "x.nwb"), *SET],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 6, result.stderr
    assert "nwbconvert[edf]" in result.stderr and "pyedflib" in result.stderr


@pytest.mark.parametrize(
    ("relative", "reader"),
    [
        ("spike2/spike2py/motor_units.smr", "spike2"),
        ("blackrock/ndi_matlab/testData.nev", "blackrock"),
        ("brainvision/mne/test.eeg", "brainvision"),
        ("neuralynx/mne_testing_2kHz/LAHC1.ncs", "neuralynx"),
        (
            "openephys_binary/aind_np_multiexp/Record Node 101/experiment1/recording1/structure.oebin",
            "openephys-binary",
        ),
    ],
)
def test_detection_by_content_from_any_file_of_a_recording(relative: str, reader: str) -> None:
    from nwbconvert.readers.registry import detect

    assert detect(realdata(relative)).name == reader


def test_shared_suffix_is_decided_by_content(tmp_path: Path) -> None:
    from nwbconvert.errors import UnknownFormat
    from nwbconvert.readers.registry import detect

    for name in ("recording.bin", "continuous.dat"):  # SpikeGLX / Open Ephys suffixes, no sibling headers
        (tmp_path / name).write_bytes(b"\x00" * 1024)
        with pytest.raises(UnknownFormat):
            detect(tmp_path / name)
    (tmp_path / "recording.meta").write_text("typeThis=nidq\nniSampRate=25000\n")
    assert detect(tmp_path / "recording.bin").name == "spikeglx"  # the .meta beside it decides
    smr = tmp_path / "not_spike2.smr"
    smr.write_bytes(b"\x00" * 1024)
    result = nwbconvert("convert", smr, "-o", tmp_path / "x.nwb", *SET)
    assert result.returncode == 3 and "Spike2" in result.stderr  # a suffix guess still fails clearly


@pytest.mark.parametrize("command", ["convert", "batch"])
def test_help_shows_the_defaults_of_the_shared_write_options(command: str) -> None:
    """Defaults are written in parentheses: rich's markup swallowed `[default: gzip]` whole."""
    result = subprocess.run(
        [sys.executable, "-m", "nwbconvert", command, "--help"],
        capture_output=True,
        text=True,
        env={**ENV, "COLUMNS": "250"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for shown in ("(default: gzip)", "gzip 0-9 (default: 4); blosc-zstd 1-9 (default: 5)", "(default: 10)"):
        assert shown in result.stdout, shown


def test_leaving_runs_atexit_handlers_and_flushes_output(tmp_path: Path) -> None:
    marker = tmp_path / "atexit-ran"
    script = (
        "import atexit, pathlib, sys\n"
        "from nwbconvert.cli import leave\n"
        f"atexit.register(pathlib.Path({str(marker)!r}).write_text, 'yes')\n"
        "print('x' * 100000)\n"  # more than a pipe's buffer: must be flushed before the process ends
        "leave(int(sys.argv[1]) if sys.argv[1].isdigit() else sys.argv[1])\n"
    )
    for code, expected in (("0", 0), ("4", 4), ("a message", 1)):
        marker.unlink(missing_ok=True)
        result = subprocess.run([sys.executable, "-c", script, code], capture_output=True, text=True, env=ENV)
        assert result.returncode == expected
        assert result.stdout == "x" * 100000 + "\n"
        assert marker.read_text() == "yes"
        assert ("a message" in result.stderr) == (code == "a message")


def test_leaving_with_threads_running_is_a_normal_exit() -> None:
    import threading

    from nwbconvert.cli import leave

    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        with pytest.raises(SystemExit) as exc:
            leave(5)
        assert exc.value.code == 5
    finally:
        stop.set()
        worker.join()
