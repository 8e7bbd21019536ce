"""Session config files: examples load, errors name file + line + key, the JSON Schema, several sources in one file."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path
from typing import Any

import h5py
import jsonschema
import numpy as np
import pytest
import yaml

from cli_runner import nwbconvert
from conftest import ROOT, SAMPLE_DATA, realdata
from helpers import assert_valid, provenance, series_arrays

CONFIGS = ROOT / "configs"
EXAMPLES = sorted(CONFIGS.glob("*.yaml"))
SESSION_CONFIGS = [CONFIGS / "session_config.yaml", CONFIGS / "multi_source.yaml"]
SPIKEGLX = SAMPLE_DATA / "spikeglx" / "Sample_g0"
OE = SAMPLE_DATA / "openephys" / "2026-01-15_10-00-00"
METADATA = """\
metadata:
  - subject: {subject_id: m1, species: Mus musculus, sex: F, age: P90D}
"""


class _EditorLoader(yaml.SafeLoader):
    """YAML as editors (YAML 1.2) read it: timestamps stay strings, as the JSON Schema says."""


_EditorLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _write(tmp_path: Path, text: str, name: str = "session.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _schema() -> dict[str, Any]:
    result = nwbconvert("config", "schema")
    assert result.returncode == 0, result.stderr
    schema: dict[str, Any] = json.loads(result.stdout)
    return schema


def test_session_configs_are_the_examples_in_configs() -> None:
    assert set(SESSION_CONFIGS) <= set(EXAMPLES)


@pytest.mark.parametrize("path", SESSION_CONFIGS, ids=lambda p: p.name)
def test_example_session_configs_load_with_paths_relative_to_their_folder(path: Path) -> None:
    from nwbconvert.config import load_config, metadata_layers

    config = load_config(path)
    assert all(source.path.is_absolute() for source in config.sources)  # taken from the config's folder
    if path.name == "multi_source.yaml":  # runs on the bundled samples: every path exists
        assert [s.path.resolve() for s in config.sources] == [SPIKEGLX.resolve(), OE.resolve()]
        layers = metadata_layers(path, config)
        assert layers[0].origin.endswith("configs/session.yaml")
        assert layers[-1].values.subject.age == "P91D"  # `set: subject.age` is the top config layer
    else:  # a template: its paths name a typical session folder beside the config
        source = config.sources[0]
        assert source.path.resolve() == (CONFIGS / "raw" / "run_g0").resolve()
        assert [(s.path, s.recording) for s in source.sortings] == [(CONFIGS / "kilosort_output", "imec0.ap")]
        assert config.metadata[0] == CONFIGS / "lab_defaults.yaml"
        assert config.options.stub_seconds == 5.0


def test_metadata_files_in_configs_stay_metadata_files(tmp_path: Path) -> None:
    """configs/session.yaml is a metadata layer (make demo, tests); as a session config it is refused helpfully."""
    from nwbconvert.metadata.layers import load_yaml

    assert load_yaml(CONFIGS / "session.yaml").values.subject.subject_id == "m1"
    result = nwbconvert("convert", "--config", CONFIGS / "session.yaml", "-o", tmp_path / "o.nwb")
    assert result.returncode == 2
    assert "is a metadata file" in result.stderr and "--metadata" in result.stderr


def test_schema_is_valid_json_schema_and_validates_the_examples() -> None:
    schema = _schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in SESSION_CONFIGS:
        errors = list(validator.iter_errors(yaml.load(path.read_text(), Loader=_EditorLoader)))
        assert errors == [], (path, [e.message for e in errors])
    bad = {"sources": [{"path": "x", "formt": "spikeglx"}], "options": {"stub_seconds": "abc"}}
    messages = sorted(e.message for e in validator.iter_errors(bad))
    assert len(messages) == 2 and any("formt" in m for m in messages)


def test_misspelled_key_and_wrong_type_reported_together_with_file_and_line(tmp_path: Path) -> None:
    config = _write(
        tmp_path,
        f"""\
sources:
  - path: {SPIKEGLX}
    formt: spikeglx
options:
  stub_seconds: soon
""",
    )
    result = nwbconvert("convert", "--config", config, "-o", tmp_path / "out.nwb")
    assert result.returncode == 2, result.stderr  # a usage error
    assert str(config) in result.stderr and "2 problem(s)" in result.stderr
    assert "line 3, sources[0].formt: not a known key (did you mean 'format'?)" in result.stderr
    assert "line 5, options.stub_seconds: Input should be a valid number" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == [config]  # nothing written


def test_inline_metadata_errors_exit_4_with_line_and_key(tmp_path: Path) -> None:
    config = _write(
        tmp_path,
        f"""\
sources:
  - path: {SPIKEGLX}
metadata:
  - subject:
      agee: P90D
set:
  session_start_time: yesterday
""",
    )
    result = nwbconvert("config", "check", config)
    assert result.returncode == 4, result.stderr  # metadata problems only
    assert "line 5, metadata[0].subject.agee: not a known key (did you mean 'age'?)" in result.stderr
    assert "line 7, set.session_start_time:" in result.stderr


def test_missing_paths_are_listed_with_their_lines(tmp_path: Path) -> None:
    config = _write(
        tmp_path,
        f"""\
sources:
  - path: {SPIKEGLX}
  - path: nowhere/run_g0
    sortings: [kilosort/]
""",
    )
    result = nwbconvert("config", "check", config)
    assert result.returncode == 3, result.stderr
    assert f"line 3, sources[1].path: {tmp_path / 'nowhere' / 'run_g0'} does not exist" in result.stderr
    assert f"line 4, sources[1].sortings[0]: {tmp_path / 'kilosort'} does not exist" in result.stderr


def test_config_check_accepts_the_runnable_example() -> None:
    result = nwbconvert("config", "check", CONFIGS / "multi_source.yaml")
    assert result.returncode == 0, result.stderr
    assert "sources[1]" in result.stdout and "3 layer(s)" in result.stdout


@pytest.mark.parametrize("args", [[], ["--config", "x.yaml", "somewhere"]], ids=["neither", "both"])
def test_convert_takes_exactly_one_of_source_or_config(args: list[str], tmp_path: Path) -> None:
    result = nwbconvert("convert", *args, "-o", tmp_path / "o.nwb")
    assert result.returncode == 2
    assert "Give either SOURCE" in result.stderr


def test_source_options_on_the_command_line_need_a_single_source_config(tmp_path: Path) -> None:
    result = nwbconvert("convert", "--config", CONFIGS / "multi_source.yaml", "--stream", "imec0.ap", "--dry-run")
    assert result.returncode == 2
    assert "--stream" in result.stderr and "2 sources" in result.stderr


def test_two_sources_into_one_file_keep_samples_and_times(tmp_path: Path) -> None:
    """The example config (Europe/London) with --timezone Europe/Berlin from the command line, which wins: the
    SpikeGLX header 10:00 local is then 09:00 UTC, an hour before the Open Ephys header (10:00 UTC)."""
    out = tmp_path / "two.nwb"
    result = nwbconvert(
        "convert", "--config", CONFIGS / "multi_source.yaml", "-o", out, "--timezone", "Europe/Berlin", "-q"
    )
    assert result.returncode == 0, result.stderr
    assert_valid(out)

    from neo.rawio import OpenEphysBinaryRawIO, SpikeGLXRawIO

    glx = SpikeGLXRawIO(dirname=str(SPIKEGLX))
    glx.parse_header()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        oe = OpenEphysBinaryRawIO(dirname=str(OE))
        oe.parse_header()
    glx_streams = [str(s["name"]) for s in glx.header["signal_streams"]]
    expected = {  # series -> (neo rawio, stream index, start in seconds on the merged clock)
        "ElectricalSeriesImec0AP": (glx, glx_streams.index("imec0.ap"), 0.0),
        "TimeSeriesNIDQ": (glx, glx_streams.index("nidq"), 0.0),
        "ElectricalSeriesRhythmData": (oe, 0, 3600.0),
        "TimeSeriesRhythmDataADC": (oe, 1, 3600.0),
    }
    for name, (io, stream, offset) in expected.items():
        series = series_arrays(out, name)
        raw = io.get_analogsignal_chunk(0, 0, None, None, stream)
        np.testing.assert_array_equal(series["data"], raw[:, : series["data"].shape[1]])
        assert series["rate"] == io.get_signal_sampling_rate(stream)
        assert series["starting_time"] == pytest.approx(io.get_signal_t_start(0, 0, stream) + offset, abs=1e-9)
    with h5py.File(out, "r") as f:
        start = dt.datetime.fromisoformat(f["session_start_time"][()].decode())
        age = f["general/subject/age"][()].decode()
        found: list[str] = []
        f.visit(lambda key: found.append(key) if key.endswith("EventsRhythmDataTTLInput/timestamp") else None)
        ttl = f[found[0]][()]
    assert start == dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.timezone.utc)
    assert age == "P91D"  # the config's `set`
    times, _, _ = oe.get_event_timestamps(0, 0, 0)
    oe_events = np.sort(oe.rescale_event_timestamp(times, dtype="float64", event_channel_index=0))
    np.testing.assert_allclose(ttl, oe_events + 3600.0, rtol=0, atol=1e-9)
    prov = provenance(out)
    assert [s["reader"] for s in prov["sources"]] == ["spikeglx", "openephys-binary"]
    assert [s["time_offset_s"] for s in prov["sources"]] == [0.0, 3600.0]
    assert "ElectricalSeriesRhythmData" in prov["sources"][1]["series"]


def test_sources_giving_the_same_names_need_a_name(tmp_path: Path) -> None:
    text = f"sources:\n  - path: {SPIKEGLX}\n  - path: {SPIKEGLX}\ntimezone: UTC\n" + METADATA
    result = nwbconvert("convert", "--config", _write(tmp_path, text), "--dry-run")
    assert result.returncode == 2, result.stderr
    assert "series ElectricalSeriesImec0AP (sources[0] and sources[1])" in result.stderr
    assert "name: Run2" in result.stderr


def test_a_source_name_is_appended_to_its_names_and_the_file_validates(tmp_path: Path) -> None:
    text = (
        f"sources:\n  - path: {SPIKEGLX}\n    streams: [imec0.ap]\n"
        f"  - path: {SPIKEGLX}\n    streams: [imec0.ap]\n    name: Run2\n"
        "timezone: UTC\noptions:\n  stub_seconds: 0.2\n" + METADATA
    )
    out = tmp_path / "o.nwb"
    result = nwbconvert("convert", "--config", _write(tmp_path, text), "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    assert_valid(out)
    first, second = series_arrays(out, "ElectricalSeriesImec0AP"), series_arrays(out, "ElectricalSeriesImec0APRun2")
    np.testing.assert_array_equal(first["data"], second["data"])
    assert first["data"].shape == (6000, 32)  # --stub 0.2 s at 30 kHz, from the config's options
    assert first["starting_time"] == second["starting_time"]  # same header start: no shift
    with h5py.File(out, "r") as f:
        assert set(f["general/devices"]) == {"imec0", "nidq", "imec0Run2", "nidqRun2"}
        assert set(f["general/extracellular_ephys"]) >= {"imec0", "imec0Run2", "electrodes"}
        assert len(f["general/extracellular_ephys/electrodes/id"]) == 64  # each source's own electrodes


def test_naive_and_zoned_header_times_need_a_timezone(tmp_path: Path) -> None:
    text = f"sources:\n  - path: {SPIKEGLX}\n  - path: {OE}\n" + METADATA
    result = nwbconvert("convert", "--config", _write(tmp_path, text), "--dry-run")
    assert result.returncode == 4, result.stderr
    assert "sources[0]" in result.stderr and "without a zone" in result.stderr and "timezone" in result.stderr


def test_layers_start_time_and_command_line_overrides(tmp_path: Path) -> None:
    """Config metadata < config `set` < --set; a source's `start_time` replaces its header time."""
    text = (
        f"sources:\n  - path: {OE}\n    start_time: 2026-01-15T08:30:00+00:00\n"
        + METADATA
        + "  - {session_description: from the config}\nset:\n  subject.age: P91D\n"
        + "output: never-written.nwb\n"
    )
    result = nwbconvert(
        "convert", "--config", _write(tmp_path, text), "--set", "subject.age=P92D", "--dry-run", "--json"
    )
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)["result"]["plan"]
    assert plan["metadata"]["session_start_time"] == "2026-01-15T08:30:00Z"
    assert plan["metadata"]["session_description"] == "from the config"
    assert plan["metadata"]["subject"]["age"] == "P92D"
    assert not (tmp_path / "never-written.nwb").exists()


def test_a_real_recording_without_a_header_time_is_placed_by_its_start_time(tmp_path: Path) -> None:
    """Intan .rhd headers carry no start time: merging needs `start_time`, and the series land at that offset."""
    rhd = realdata("intan/IntanToNWB/example_intan_file.rhd")
    text = f"sources:\n  - path: {SPIKEGLX}\n    streams: [imec0.ap]\n  - path: {rhd}\ntimezone: UTC\n" + METADATA
    result = nwbconvert("convert", "--config", _write(tmp_path, text), "--dry-run")
    assert result.returncode == 4, result.stderr
    assert "sources[1]" in result.stderr and "start_time" in result.stderr

    text = text.replace(f"{rhd}\n", f"{rhd}\n    start_time: 2026-01-15T10:00:30+00:00\n")
    out = tmp_path / "o.nwb"
    result = nwbconvert("convert", "--config", _write(tmp_path, text), "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    assert_valid(out)
    from neo.rawio import IntanRawIO

    io = IntanRawIO(filename=str(rhd))
    io.parse_header()
    series = series_arrays(out, "ElectricalSeriesAmplifier")
    np.testing.assert_array_equal(series["data"], io.get_analogsignal_chunk(0, 0, None, None, 0))
    assert series["starting_time"] == pytest.approx(io.get_signal_t_start(0, 0, 0) + 30.0, abs=1e-9)
    assert series_arrays(out, "ElectricalSeriesImec0AP")["starting_time"] == pytest.approx(57.9336, abs=1e-9)


def test_a_sorting_of_a_shifted_source_moves_with_it(tmp_path: Path) -> None:
    """America/New_York puts the SpikeGLX header (10:00 local = 15:00 UTC) 5 h after Open Ephys (10:00 UTC): its
    series and its sorting's spike times (a relative path in the config, paired by `recording`) move by 18000 s."""
    from nwbconvert.synthetic.phy import write_phy_folder

    ap_bin = SPIKEGLX / "Sample_g0_imec0" / "Sample_g0_t0.imec0.ap.bin"
    phy = write_phy_folder(tmp_path / "kilosort", ap_bin, 32, 33, ap_bin.stat().st_size // 66, 30000.0)
    text = (
        f"sources:\n  - path: {OE}\n  - path: {SPIKEGLX}\n    streams: [imec0.ap]\n"
        "    sortings:\n      - path: kilosort\n        recording: imec0.ap\n"
        "timezone: America/New_York\n" + METADATA
    )
    out = tmp_path / "o.nwb"
    result = nwbconvert("convert", "--config", _write(tmp_path, text), "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    assert_valid(out)
    ap = series_arrays(out, "ElectricalSeriesImec0AP")
    assert ap["starting_time"] == pytest.approx(57.9336 + 18000.0, abs=1e-9)
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        assert nwb.session_start_time == dt.datetime(2026, 1, 15, 10, 0, tzinfo=dt.timezone.utc)
        units = nwb.units.to_dataframe()
    for cluster in np.unique(phy.spike_clusters):
        frames = phy.spike_times[phy.spike_clusters == cluster]
        row = units[units["unit_name"] == str(cluster)].iloc[0]
        np.testing.assert_allclose(row["spike_times"], frames / 30000.0 + 57.9336 + 18000.0, rtol=0, atol=1e-9)
    assert provenance(out)["sources"][1]["time_offset_s"] == 18000.0


def test_write_options_come_from_the_config_unless_given_on_the_command_line(tmp_path: Path) -> None:
    """`options:` compression, level and chunk size shape the file; a --compression flag wins over the config's."""
    text = f"sources:\n  - path: {OE}\n" + METADATA + "options:\n  compression: none\n  chunk_mb: 0.25\n"
    config = _write(tmp_path, text)
    from_config, flag_wins = tmp_path / "config.nwb", tmp_path / "flag.nwb"
    assert nwbconvert("convert", "--config", config, "-o", from_config).returncode == 0
    result = nwbconvert(
        "convert", "--config", config, "-o", flag_wins, "--compression", "gzip", "--compression-level", "7"
    )
    assert result.returncode == 0, result.stderr
    with h5py.File(from_config, "r") as f, h5py.File(flag_wins, "r") as g:
        name = next(iter(f["acquisition"]))
        mine, theirs = f[f"acquisition/{name}/data"], g[f"acquisition/{name}/data"]
        assert mine.compression is None and theirs.compression == "gzip" and theirs.compression_opts == 7
        assert mine.chunks == theirs.chunks  # chunk_mb from the config in both
        assert mine.chunks[0] * mine.chunks[1] * mine.dtype.itemsize <= 0.25 * 1024 * 1024
        np.testing.assert_array_equal(mine[()], theirs[()])
    bad = _write(tmp_path, f"sources:\n  - path: {OE}\n" + METADATA + "options:\n  compression: zip\n", "bad.yaml")
    result = nwbconvert("convert", "--config", bad, "-o", tmp_path / "bad.nwb")
    assert result.returncode == 2 and "line 6, options.compression" in result.stderr, result.stderr
