"""A conversion stays stoppable while it reads: SIGTERM during a slow metadata, session-config or study-config read
(a 1 MB YAML of unknown keys takes several seconds to parse) ends it promptly, exit 130, nothing written."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_runner import ENV
from conftest import COMPLETE_METADATA, SAMPLE_DATA

SET = [f"--set={kv}" for kv in COMPLETE_METADATA]
SPIKEGLX = SAMPLE_DATA / "spikeglx" / "Sample_g0"
PROMPT_S = 2.0  # a stop takes less than this
SIGNAL_AFTER_S = 0.3  # into the parse, when the signal is sent

# Announces on stderr when a YAML file has been read and its parse begins, then runs the command.
ANNOUNCE_PARSE = """
import sys
import nwbconvert.metadata.yamlfile as yamlfile
real = yamlfile._decode
def announced(path, data, what):
    if len(data) > 100_000:
        print("PARSING", what, file=sys.stderr, flush=True)
    return real(path, data, what)
yamlfile._decode = announced
from nwbconvert.cli import main
sys.argv = ["nwbconvert", *sys.argv[1:]]
main()
"""


# A plan phase in a library that never checks for a stop: 30 s of work once the headers and metadata are read.
SLOW_PLAN = """
import sys, time
import nwbconvert.pipeline as pipeline
real = pipeline.make_plan
def slow(*args, **kwargs):
    print("PARSING", "plan", file=sys.stderr, flush=True)
    time.sleep(30)
    return real(*args, **kwargs)
pipeline.make_plan = slow
from nwbconvert.cli import main
sys.argv = ["nwbconvert", *sys.argv[1:]]
main()
"""


def _unknown_keys(n_bytes: int = 1_000_000) -> str:
    """About `n_bytes` of `unknown_key_NNNNNN: value` lines (under the 1 MB limit of a YAML file)."""
    line = "unknown_key_{:06d}: value\n"
    return "".join(line.format(i) for i in range(n_bytes // len(line.format(0))))


def _terminated_while_parsing(
    args: list[str], script: str = ANNOUNCE_PARSE
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run nwbconvert with `args`, send SIGTERM once it parses a large YAML file; the result and the seconds from
    the signal to the exit."""
    process, seen = _parsing(args, script)
    time.sleep(SIGNAL_AFTER_S)  # well inside the parse
    process.send_signal(signal.SIGTERM)
    sent = time.perf_counter()
    stdout, stderr = process.communicate(timeout=120)
    elapsed = time.perf_counter() - sent
    return subprocess.CompletedProcess(args, process.returncode, stdout, "".join(seen) + stderr), elapsed


def _parsed_to_the_end(args: list[str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run nwbconvert with `args`, left alone: the result and the seconds from the start of its parse to its exit."""
    process, seen = _parsing(args, ANNOUNCE_PARSE)
    began = time.perf_counter()
    stdout, stderr = process.communicate(timeout=300)
    parse_s = time.perf_counter() - began
    return subprocess.CompletedProcess(args, process.returncode, stdout, "".join(seen) + stderr), parse_s


def _parsing(args: list[str], script: str) -> tuple[subprocess.Popen[str], list[str]]:
    """nwbconvert started with `args` under `script`, once it announced that a parse began; what it printed so far."""
    process = subprocess.Popen(
        [sys.executable, "-c", script, *args], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV
    )
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if line.startswith("PARSING"):
            return process, seen
    raise AssertionError(f"the parse never began: {''.join(seen)}")


def _assert_stopped(done: subprocess.CompletedProcess[str], elapsed: float, out_folder: Path) -> None:
    assert done.returncode == 130, done.stderr
    assert elapsed < PROMPT_S, f"took {elapsed:.1f} s to stop"
    assert "Interrupted; nothing was left at the destination." in done.stderr
    assert "Traceback" not in done.stderr and "unknown key" not in done.stderr
    assert list(out_folder.iterdir()) == []


def test_sigterm_while_reading_a_metadata_file(tmp_path: Path) -> None:
    metadata = tmp_path / "lab.yaml"
    metadata.write_text(_unknown_keys())
    out = tmp_path / "out"
    out.mkdir()
    args = ["convert", str(SPIKEGLX), "-o", str(out / "x.nwb"), "-m", str(metadata), *SET, "-q"]
    done, elapsed = _terminated_while_parsing(args)
    _assert_stopped(done, elapsed, out)
    # the oracle: left alone, the same parse goes on for much longer than the stop took, and is then refused
    refused, parse_s = _parsed_to_the_end(args)
    assert refused.returncode == 4 and "unknown key" in refused.stderr
    assert elapsed < (parse_s - SIGNAL_AFTER_S) / 2, f"stopped in {elapsed:.2f} s of a {parse_s:.2f} s parse"


def test_sigterm_while_reading_a_session_config(tmp_path: Path) -> None:
    config = tmp_path / "session.yaml"
    config.write_text(f"sources:\n  - path: {SPIKEGLX}\n" + _unknown_keys(990_000))
    out = tmp_path / "out"
    out.mkdir()
    done, elapsed = _terminated_while_parsing(["convert", "--config", str(config), "-o", str(out / "x.nwb"), "-q"])
    _assert_stopped(done, elapsed, out)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_sigterm_while_reading_a_study_config(tmp_path: Path, jobs: str) -> None:
    """A batch handles its first signal as a request (its workers finish at a safe point): the parse checks it."""
    study = tmp_path / "study.yaml"
    study.write_text(
        f"sessions:\n  - subject_id: m1\n    session_id: '1'\n    source: {SPIKEGLX}\n" + _unknown_keys(990_000)
    )
    out = tmp_path / "dandiset"
    out.mkdir()
    done, elapsed = _terminated_while_parsing(["batch", str(study), "-o", str(out), "-j", jobs])
    assert done.returncode == 130, done.stderr
    assert elapsed < PROMPT_S, f"took {elapsed:.1f} s to stop"
    assert "Interrupted" in done.stderr and "Traceback" not in done.stderr
    assert list(out.iterdir()) == []


def test_sigterm_before_the_output_is_begun_stops_at_once(tmp_path: Path) -> None:
    """Before the temporary output exists nothing needs a safe point: the first signal stops a conversion at once,
    even inside code that never checks (a reader's header parse, the plan); no 'Stopping at the next safe point'."""
    out = tmp_path / "out"
    out.mkdir()
    args = ["convert", str(SPIKEGLX), "-o", str(out / "x.nwb"), *SET, "-q"]
    done, elapsed = _terminated_while_parsing(args, SLOW_PLAN)
    _assert_stopped(done, elapsed, out)
    assert "Stopping at the next safe point" not in done.stderr
