"""`align:` in a study config's session entry: `nwbconvert batch` times a movie by a SpikeGLX NI-DAQ line exactly as
`convert --config` does, and a changed alignment converts the session again (its fingerprint holds it). Oracle: the
rising edges read from the NI-DAQ .bin with numpy (test_ophys_align.rising_edges)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA
from nwbconvert.synthetic.spikeglx import write_spikeglx_run
from test_ophys_align import rising_edges, write_movie

OPHYS = ("ophys.indicator=GCaMP6f", "ophys.location=VISp", "ophys.excitation_lambda=920", "ophys.emission_lambda=510")


def _study(root: Path, label: str) -> Path:
    run = write_spikeglx_run(root / "ephys", seconds=3.0, n_channels=4).folder
    write_movie(root / "movie.tif", 11)
    values = dict(kv.split("=", 1) for kv in (*COMPLETE_METADATA, *OPHYS) if not kv.startswith("subject.subject_id"))
    entry = {
        "subject_id": "m1",
        "session_id": "1",
        "sources": [{"path": str(run), "streams": ["nidq"], "name": "Nidq"}, {"path": "movie.tif", "name": "Scope"}],
        "align": [{"target": "Scope", "channel": "EventsXD1Nidq", "label": label}],
        "set": values,
    }
    study = root / "study.yaml"
    study.write_text(json.dumps({"sessions": [entry], "timezone": "Europe/Berlin"}))
    return run


def _batch(root: Path, out: Path) -> dict[str, str]:
    done = nwbconvert("batch", "study.yaml", "-o", out, "--json", cwd=root)
    assert done.returncode == 0, done.stderr
    return {s["key"]: s["status"] for s in json.loads(done.stdout)["result"]["sessions"]}


def test_batch_times_a_movie_by_the_pulses_and_a_changed_alignment_converts_again(tmp_path: Path) -> None:
    from pynwb import NWBHDF5IO

    root = tmp_path / "study"
    run = _study(root, "XD1 ON")
    out = tmp_path / "dandiset"
    assert _batch(root, out) == {"sub-m1_ses-1": "converted"}
    (written,) = (out / "sub-m1").glob("*.nwb")
    with NWBHDF5IO(str(written), "r") as io:
        series = io.read().acquisition["TwoPhotonSeriesPlane0Channel0Scope"]
        np.testing.assert_allclose(series.timestamps[:], rising_edges(run, 1), rtol=0, atol=1e-9)
    assert _batch(root, out) == {"sub-m1_ses-1": "skipped"}
    study = json.loads((root / "study.yaml").read_text())
    study["sessions"][0]["align"][0]["label"] = "XD1 OFF"  # 12 falling edges for 11 frames: refused, not skipped
    (root / "study.yaml").write_text(json.dumps(study))
    done = nwbconvert("batch", "study.yaml", "-o", out, "--json", cwd=root)
    assert done.returncode == 1
    (session,) = json.loads(done.stdout)["result"]["sessions"]
    assert session["status"] == "failed" and "11 frames" in session["message"] and "12 events" in session["message"]
    assert not list(out.rglob("*.nwbconvert-partial*"))  # the refused conversion left nothing half-written


def test_align_needs_a_sources_list(tmp_path: Path) -> None:
    (tmp_path / "study.yaml").write_text(
        json.dumps({"sessions": [{"subject_id": "m1", "source": "x", "align": [{"target": "a", "channel": "b"}]}]})
    )
    done = nwbconvert("batch", "study.yaml", "-o", tmp_path / "out", cwd=tmp_path)
    assert done.returncode == 2 and "`sources:` list" in done.stderr
