"""Nothing is ever half-written: failures, Ctrl-C and SIGKILL leave nothing at the destination."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_runner import ENV, nwbconvert
from conftest import COMPLETE_METADATA, SAMPLE_DATA
from nwbconvert.errors import OutputError
from nwbconvert.output import PARTIAL_TAG
from nwbconvert.pipeline import ConvertOptions, convert
from nwbconvert.synthetic.spikeglx import write_spikeglx_run

SET = [f"--set={kv}" for kv in COMPLETE_METADATA]
OE = SAMPLE_DATA / "openephys"


@pytest.fixture(scope="module")
def long_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 60 s, 96-channel SpikeGLX run (~380 MB): long enough to interrupt, larger than the write buffer."""
    return write_spikeglx_run(tmp_path_factory.mktemp("long"), seconds=60.0, n_channels=96).folder


def _partials(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if PARTIAL_TAG in p.name]


class _FailAfter:
    """A progress sink that raises once some bytes were written: a failure in the middle of writing."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.seen = 0

    def start(self, total_bytes: int) -> None:
        self.total = total_bytes

    def advance(self, n_bytes: int) -> None:
        self.seen += n_bytes
        raise self.exc


@pytest.mark.parametrize("compression", ["gzip", "none"])  # none: the samples are written beside pynwb
@pytest.mark.parametrize("exc", [RuntimeError("disk exploded"), KeyboardInterrupt()])
def test_failure_mid_write_leaves_nothing(exc: BaseException, compression: str, tmp_path: Path) -> None:
    out = tmp_path / "out.nwb"
    sink = _FailAfter(exc)
    with pytest.raises(type(exc)):
        convert(OE, out, ConvertOptions(set_values=COMPLETE_METADATA, compression=compression), sink)
    assert sink.seen > 0  # the failure happened after samples were being written
    assert list(tmp_path.iterdir()) == []


def test_failed_overwrite_keeps_the_old_file(tmp_path: Path) -> None:
    out = tmp_path / "out.nwb"
    out.write_bytes(b"previous conversion")
    with pytest.raises(RuntimeError):
        convert(OE, out, ConvertOptions(set_values=COMPLETE_METADATA, overwrite=True), _FailAfter(RuntimeError("x")))
    assert out.read_bytes() == b"previous conversion"
    assert _partials(tmp_path) == []


def test_existing_output_needs_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out.nwb"
    out.write_bytes(b"keep me")
    refused = nwbconvert("convert", OE, "-o", out, *SET)
    assert refused.returncode == 5
    assert "--overwrite" in refused.stderr and str(out) in refused.stderr
    assert out.read_bytes() == b"keep me"
    replaced = nwbconvert("convert", OE, "-o", out, *SET, "--overwrite", "-q")
    assert replaced.returncode == 0, replaced.stderr
    assert out.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"


def test_missing_output_folder_is_an_output_error(tmp_path: Path) -> None:
    result = nwbconvert("convert", OE, "-o", tmp_path / "nope" / "out.nwb", *SET)
    assert result.returncode == 5
    assert "does not exist" in result.stderr


def test_library_refuses_existing_output_before_reading(tmp_path: Path) -> None:
    out = tmp_path / "out.nwb"
    out.write_bytes(b"x")
    with pytest.raises(OutputError):
        convert(tmp_path / "no-such-source", out, ConvertOptions())


def _start(source: Path, out: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "nwbconvert", "convert", str(source), "-o", str(out), *SET, "-q", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def _wait_for_partial(folder: Path, proc: subprocess.Popen[str]) -> Path:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = [p for p in _partials(folder) if p.stat().st_size > 1_000_000]
        if found:
            return found[0]
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.05)
    raise AssertionError("the conversion never started writing")


def test_sigkill_leaves_no_output_and_next_run_cleans_up(long_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.nwb"
    proc = _start(long_run, out)
    partial = _wait_for_partial(tmp_path, proc)
    proc.kill()
    proc.wait()
    assert not out.exists()
    assert partial.exists()  # SIGKILL cannot be caught: the stale temporary file stays hidden beside it
    assert partial.name.startswith(".")
    rerun = nwbconvert("convert", SAMPLE_DATA / "spikeglx" / "Sample_g0", "-o", out, *SET, "-q")
    assert rerun.returncode == 0, rerun.stderr
    assert out.exists()
    assert _partials(tmp_path) == []  # the stale file of the killed run is gone


@pytest.mark.parametrize(
    ("sig", "args"),
    [(signal.SIGINT, ()), (signal.SIGTERM, ()), (signal.SIGINT, ("--compression", "none"))],
)
def test_interrupt_exits_130_and_cleans_up(
    sig: signal.Signals, args: tuple[str, ...], long_run: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.nwb"
    proc = _start(long_run, out, *args)
    _wait_for_partial(tmp_path, proc)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Interrupted" in stderr and "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []


# Runs the CLI with SIGINT sent to itself when `target` (module:function) is first called: a Ctrl-C at that moment.
INTERRUPT_AT = """
import importlib, os, signal, sys
module_name, name = sys.argv[1].split(":")
module = importlib.import_module(module_name)
real = getattr(module, name)
def interrupted(*args, **kwargs):
    print("REACHED", name, file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGINT)
    return real(*args, **kwargs)
setattr(module, name, interrupted)
import nwbconvert.pipeline as pipeline
begin_output = pipeline.atomic_output
def announced(*args, **kwargs):  # tells whether writing began
    print("WRITING", file=sys.stderr, flush=True)
    return begin_output(*args, **kwargs)
pipeline.atomic_output = announced
from nwbconvert.cli.app import app
sys.argv = ["nwbconvert", *sys.argv[2:]]
app()
"""


def _convert_interrupted_at(target: str, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Convert the Open Ephys sample into `folder` with a Ctrl-C when `target` is first called."""
    command = ["convert", str(OE), "-o", str(folder / "out.nwb"), *SET, "-q", *args]
    return subprocess.run(
        [sys.executable, "-c", INTERRUPT_AT, target, *command], capture_output=True, text=True, env=ENV, timeout=300
    )


@pytest.mark.parametrize(
    ("target", "compression"),
    [
        ("nwbconvert.validate.ahead:check_output", "gzip"),  # while the written file is validated
        ("nwbconvert.validate.ahead:check_output", "none"),
        ("nwbconvert.output:fsync_tree", "gzip"),  # during the final fsync, the last step before the rename
    ],
)
def test_interrupt_after_the_last_sample_leaves_nothing(target: str, compression: str, tmp_path: Path) -> None:
    """Ctrl-C after the last sample was written: no output, exit 130 (it used to be ignored while validating or
    flushing, and the file took its name)."""
    done = _convert_interrupted_at(target, tmp_path, "--compression", compression)
    assert f"REACHED {target.split(':')[1]}" in done.stderr
    assert done.returncode == 130, done.stderr
    assert "Stopping at the next safe point" in done.stderr  # said at once, on the first Ctrl-C
    assert "Interrupted; nothing was left at the destination." in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_interrupt_while_reading_headers_stops_before_writing(tmp_path: Path) -> None:
    done = _convert_interrupted_at("nwbconvert.pipeline:read_source", tmp_path)
    assert "REACHED read_source" in done.stderr
    assert done.returncode == 130, done.stderr
    assert "WRITING" not in done.stderr  # stopped before the temporary file was begun, not at its first chunk
    assert list(tmp_path.iterdir()) == []


def test_second_signal_stops_at_once() -> None:
    """The first signal of a conversion only requests a stop (checked at safe points); the second raises."""
    from nwbconvert import interrupts

    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        interrupts.install()
        with interrupts.deferred():
            interrupts.check()  # nothing pending
            signal.raise_signal(signal.SIGINT)
            with pytest.raises(KeyboardInterrupt):
                interrupts.check()
            with pytest.raises(KeyboardInterrupt):
                signal.raise_signal(signal.SIGTERM)
        interrupts.install()  # a new command starts with nothing pending
        interrupts.check()
        with pytest.raises(KeyboardInterrupt):  # outside a conversion: at once
            signal.raise_signal(signal.SIGINT)
    finally:
        interrupts.install()
        signal.signal(signal.SIGINT, handlers[0])
        signal.signal(signal.SIGTERM, handlers[1])


PEAK_RSS = """
import sys
from nwbconvert.cli.app import app  # not cli.main: that leaves with os._exit, skipping the measurement
sys.argv = ["nwbconvert", *sys.argv[1:]]
try:
    app()
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
# VmHWM is this process's own peak; ru_maxrss would also count the pytest process that forked it
print(int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) // 1024)
"""


@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_memory_stays_bounded_on_a_recording_larger_than_the_bound(
    compression: str, long_run: Path, tmp_path: Path
) -> None:
    source_bytes = sum(p.stat().st_size for p in long_run.rglob("*.bin"))
    out = tmp_path / "out.nwb"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            PEAK_RSS,
            "convert",
            str(long_run),
            "-o",
            str(out),
            *SET,
            "-q",
            "--compression",
            compression,
        ],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    peak_mb = int(result.stdout.strip().splitlines()[-1])
    assert source_bytes > 350e6
    assert peak_mb <= 256, f"peak RSS {peak_mb} MiB while converting {source_bytes / 1e6:.0f} MB"  # issue 5's bound
