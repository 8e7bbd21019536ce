"""A full disk, for real: a small file system mounted for the test, every compression, both backends.

The conversion must end with exit 5 and one plain paragraph (no HDF5 error record, no traceback, none of the
hundreds of lines h5py prints for objects it cannot close on a full disk), and leave nothing on the disk.
"""

from __future__ import annotations

import mmap
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA
from nwbconvert.synthetic.spikeglx import write_spikeglx_run

SET = [f"--set={kv}" for kv in COMPLETE_METADATA]
SIZE_MB = 6  # the source is ~26 MB of samples: no compression brings it under this
RAW_RECORD = ("errno", "file descriptor", "buf =", "Traceback", "RuntimeError", "OSError", "HDF5", "h5py", "offset =")


def _o_direct_works(folder: Path) -> bool:
    probe = folder / "o_direct_probe"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_DIRECT)
    except OSError:
        return False
    try:
        os.pwrite(fd, mmap.mmap(-1, 4096), 0)  # an aligned buffer, as direct_io.py writes
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
        probe.unlink()


def _mount(kind: str, target: Path, image: Path) -> None:
    if kind == "tmpfs":
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m", "tmpfs", str(target)], check=True)
        return
    subprocess.run(["truncate", "-s", f"{SIZE_MB + 2}M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], check=True)
    subprocess.run(["mount", "-o", "loop", str(image), str(target)], check=True)
    (target / "lost+found").rmdir()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A file system of a few MB, where O_DIRECT works (tmpfs on Linux >= 6.6, else a loop-mounted ext4), so
    that `--compression none` writes through the direct-I/O path as on a real disk."""
    target = tmp_path / "disk"
    target.mkdir()
    _mount("tmpfs", target, tmp_path / "disk.img")
    if not _o_direct_works(target):
        subprocess.run(["umount", str(target)], check=True)
        _mount("ext4", target, tmp_path / "disk.img")
    assert _o_direct_works(target)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=True)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_spikeglx_run(tmp_path_factory.mktemp("full"), seconds=6.0, n_channels=64).folder


def _free(folder: Path) -> int:
    stat = os.statvfs(folder)
    return stat.f_bavail * stat.f_frsize


def _assert_one_paragraph(stderr: str, out: Path) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    message = lines[0]
    assert message.startswith(f"Error: {out}: could not be written: the disk is full"), message
    assert f"no space left on the file system holding {out.parent}" in message
    assert "were free there when writing began" in message and "write to another disk with -o" in message
    assert "nothing was left at the destination" in message
    for raw in RAW_RECORD:
        assert raw not in message, raw
    return message


@pytest.mark.parametrize(
    ("backend", "compression"),
    [
        ("hdf5", "none"),  # the samples go through O_DIRECT beside pynwb (writer/preallocated.py)
        ("hdf5", "gzip"),
        ("hdf5", "lzf"),  # h5py reports this full disk as a RuntimeError
        ("hdf5", "blosc-zstd"),
        ("zarr", "none"),
        ("zarr", "gzip"),
        ("zarr", "blosc-zstd"),
    ],
)
def test_full_disk_is_exit_5_in_plain_words(small_disk: Path, source: Path, backend: str, compression: str) -> None:
    out = small_disk / ("session.nwb.zarr" if backend == "zarr" else "session.nwb")
    free = _free(small_disk)
    result = nwbconvert("convert", source, "-o", out, *SET, "--backend", backend, "--compression", compression, "-q")
    assert result.returncode == 5, result.stderr
    message = _assert_one_paragraph(result.stderr, out)
    assert f"{free / 1e6:.1f} MB were free" in message
    assert list(small_disk.iterdir()) == []  # no partial file or store
    assert _free(small_disk) == free


def test_debug_shows_the_failed_write(small_disk: Path, source: Path) -> None:
    out = small_disk / "session.nwb"
    result = nwbconvert("convert", source, "-o", out, *SET, "--compression", "none", "-q", "--debug")
    assert result.returncode == 5
    assert "Traceback" in result.stderr and "No space left on device" in result.stderr
    assert list(small_disk.iterdir()) == []
