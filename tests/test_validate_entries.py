"""`nwbconvert validate` on entries that are not regular files: dangling links (unfetched DataLad / git-annex
files) and pipes are error findings, found without opening them; an interrupt says nothing was written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cli_runner import ENV, nwbconvert
from nwb_catalogue import write_nwb
from test_validate import stalled_store

ANNEX = "../.git/annex/objects/Xk/7v/MD5E-s1234--abc.nwb/MD5E-s1234--abc.nwb"


def _by_name(stdout: str) -> dict[str, list[dict]]:
    return {Path(f["file"]).name: f["findings"] for f in json.loads(stdout)["result"]["files"]}


def test_dangling_links_and_pipes_in_a_folder_are_errors(tmp_path: Path) -> None:
    write_nwb(tmp_path / "sub-m1_ses-1_ecephys.nwb")
    (tmp_path / "sub-m2").mkdir()
    (tmp_path / "sub-m2" / "sub-m2_ses-1_ecephys.nwb").symlink_to(ANNEX)  # not fetched
    (tmp_path / "sub-m3.nwb.zarr").symlink_to("../.git/annex/objects/missing-store")
    os.mkfifo(tmp_path / "pipe.nwb")
    (tmp_path / "notes.txt").symlink_to("nowhere")  # not an NWB name: not looked at
    started = time.monotonic()
    result = nwbconvert("validate", tmp_path, "--json", "--timeout", "100", "-j", "1")
    assert time.monotonic() - started < 60  # the pipe was never opened (that would wait the whole timeout)
    assert result.returncode == 1, result.stderr
    found = _by_name(result.stdout)
    assert sorted(found) == ["pipe.nwb", "sub-m1_ses-1_ecephys.nwb", "sub-m2_ses-1_ecephys.nwb", "sub-m3.nwb.zarr"]
    assert [f for f in found["sub-m1_ses-1_ecephys.nwb"] if f["severity"] == "error"] == []
    (link,) = found["sub-m2_ses-1_ecephys.nwb"]
    assert (link["severity"], link["check_id"], link["layer"]) == ("error", "file.dangling_link", "file")
    assert link["message"] == (
        f"The file is a symbolic link to {ANNEX}, which does not exist, so there is nothing to validate. "
        "In a DataLad or git-annex dataset this is a file whose content was not fetched."
    )
    linked = tmp_path / "sub-m2" / "sub-m2_ses-1_ecephys.nwb"
    assert link["fix"] == f"Fetch the content (datalad get {linked}, or git annex get {linked}), or remove the link."
    assert [f["check_id"] for f in found["sub-m3.nwb.zarr"]] == ["file.dangling_link"]
    (pipe,) = found["pipe.nwb"]
    assert (pipe["severity"], pipe["check_id"]) == ("error", "file.not_regular")
    assert pipe["message"].startswith("This is a named pipe (FIFO), not a regular file")
    assert json.loads(result.stdout)["result"]["summary"]["errors"] == 3
    assert "4 file(s): 3 with errors" in result.stderr


def test_a_pipe_named_directly_is_refused_at_once(tmp_path: Path) -> None:
    pipe = tmp_path / "stream.nwb"
    os.mkfifo(pipe)
    started = time.monotonic()
    result = nwbconvert("validate", pipe, "/dev/null", "--json", "--timeout", "300")
    assert time.monotonic() - started < 60
    assert result.returncode == 1
    found = _by_name(result.stdout)
    assert [(f["check_id"], f["severity"]) for f in found["stream.nwb"]] == [("file.not_regular", "error")]
    assert found["null"][0]["message"].startswith("This is a character device, not a regular file")


def test_a_dangling_link_named_directly_is_a_finding_not_a_missing_path(tmp_path: Path) -> None:
    link = tmp_path / "unfetched.nwb"
    link.symlink_to(ANNEX)
    result = nwbconvert("validate", link, "--json")
    assert result.returncode == 1, result.stderr
    assert [f["check_id"] for f in _by_name(result.stdout)["unfetched.nwb"]] == ["file.dangling_link"]


def test_sigterm_during_validation_says_nothing_was_written(tmp_path: Path) -> None:
    store = stalled_store(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "nwbconvert", "validate", str(store), "--timeout", "120", "-j", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    deadline = time.monotonic() + 60
    while True:  # a writer can open the pipe only once the validating worker has it open for reading
        try:
            writer = os.open(store / "data" / ".zarray", os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError:
            assert time.monotonic() < deadline and proc.poll() is None, "the worker never opened the store"
            time.sleep(0.05)
    try:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        os.close(writer)
    assert proc.returncode == 130, stderr
    assert "Interrupted; no file was written or changed." in stderr
    assert "destination" not in stderr and "Traceback" not in stderr
