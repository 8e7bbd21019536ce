"""A reader that leaves early (`nwbconvert info F --json | head -1`) ends the command quietly: no traceback, no
exit 70, and the command's own exit code (validate still exits 1 on errors)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from cli_runner import ENV
from nwb_catalogue import GOOD_SUBJECT, write_nwb


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("closed")
    return {
        "valid": write_nwb(folder / "valid.nwb"),
        "sex_male": write_nwb(folder / "sex_male.nwb", {**GOOD_SUBJECT, "sex": "male"}),
    }


def _closed_stdout(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI with stdout a pipe whose reader has already left: every write to it fails."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "nwbconvert", *map(str, args)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
            timeout=300,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("info", "valid", "--json"), 0),
        (("info", "valid"), 0),
        (("formats",), 0),
        (("formats", "--json"), 0),
        (("validate", "valid", "--json"), 0),
        (("validate", "sex_male", "--json"), 1),
        (("validate", "sex_male", "--format", "jsonl"), 1),
        (("validate", "sex_male"), 1),
        (("--version",), 0),
        (("config", "schema"), 0),
    ],
)
def test_a_closed_stdout_ends_quietly(args: tuple[str, ...], code: int, files: dict[str, Path]) -> None:
    result = _closed_stdout(*(files.get(a, a) for a in args))
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr and "Error" not in result.stderr and "Broken" not in result.stderr
    if args[0] == "validate":  # the summary still reaches stderr
        assert f"1 file(s): {code} with errors" in result.stderr


def test_head_reads_one_line(files: dict[str, Path]) -> None:
    shell = f"set -o pipefail; {sys.executable} -m nwbconvert info {files['valid']} --json | head -1"
    result = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, env=ENV, timeout=300)
    assert (result.returncode, result.stdout, result.stderr) == (0, "{\n", "")


@pytest.fixture
def handlers():
    """guarded() installs its signal handlers in this process: put pytest's back afterwards."""
    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGINT, saved[0])
    signal.signal(signal.SIGTERM, saved[1])


def test_guarded_ends_any_print_to_a_closed_pipe_with_exit_0(handlers, monkeypatch: pytest.MonkeyPatch) -> None:
    from nwbconvert.cli.guard import guarded, reader_left

    read_end, write_end = os.pipe()
    os.close(read_end)
    closed = os.fdopen(write_end, "w")
    assert reader_left(closed)
    monkeypatch.setattr(sys, "stdout", closed)
    with pytest.raises(typer.Exit) as ended, guarded(False):
        print("x" * 100_000, flush=True)
    assert ended.value.exit_code == 0
    print("the rest goes to /dev/null", flush=True)  # no second error
    assert not reader_left(closed)
    closed.close()


def test_a_broken_pipe_elsewhere_is_still_a_bug(handlers, capsys: pytest.CaptureFixture[str]) -> None:
    from nwbconvert.cli.guard import guarded

    with pytest.raises(typer.Exit) as ended, guarded(False):
        raise BrokenPipeError(32, "Broken pipe")  # e.g. a worker's connection: stdout is fine
    assert ended.value.exit_code == 70
    assert "Unexpected error: BrokenPipeError" in capsys.readouterr().err
