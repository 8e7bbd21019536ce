"""The bundled sample data: produced by the project's generator, in layouts neo reads as real files."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

from conftest import ROOT, SAMPLE_DATA


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and p.suffix != ".py"
    }


def test_generator_reproduces_the_committed_sample_data(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "sample_data" / "generate.py"), "--out", str(tmp_path)], check=True)
    assert _files(tmp_path) == _files(SAMPLE_DATA)


def test_neo_reads_the_spikeglx_run() -> None:
    from neo.rawio import SpikeGLXRawIO

    io = SpikeGLXRawIO(dirname=str(SAMPLE_DATA / "spikeglx" / "Sample_g0"))
    io.parse_header()
    streams = {str(s["name"]): i for i, s in enumerate(io.header["signal_streams"])}
    assert {"imec0.ap", "imec0.lf", "nidq"} <= set(streams)
    assert io.get_signal_sampling_rate(streams["imec0.ap"]) == 30000.0
    assert io.get_signal_size(0, 0, streams["imec0.ap"]) == 90000
    assert io.get_signal_size(0, 0, streams["imec0.lf"]) == 7500
    ap = io.get_analogsignal_chunk(0, 0, 0, 30000, streams["imec0.ap"])
    assert ap.shape == (30000, 32) and 0 < ap.std() < 100  # noise and spikes, not silence or clipping


def test_neo_reads_the_open_ephys_recording_with_ttl_events() -> None:
    from neo.rawio import OpenEphysBinaryRawIO

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        io = OpenEphysBinaryRawIO(dirname=str(SAMPLE_DATA / "openephys"))
        io.parse_header()
    assert io.get_signal_size(0, 0, 0) == 90000
    assert len(io.header["event_channels"]) == 1
    n_events = io.event_count(0, 0, 0)
    assert n_events == 10  # neo reports the rising edges: 6 pulses on line 1 and 4 on line 2
    times, _, labels = io.get_event_timestamps(0, 0, 0)
    assert np.all(np.diff(times) >= 0)
    assert set(labels) == {"1", "2"}
