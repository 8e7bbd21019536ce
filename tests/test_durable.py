"""Outputs are on disk before they take their final name: fsync of the file (or every file of a store), then
the rename, then fsync of the folder; big writes are flushed while they run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nwbconvert import durable
from nwbconvert.output import atomic_output


class Calls:
    """Records, in order, what was fsynced (by path) and renamed, while the real calls still run."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events: list[tuple[str, str]] = []
        real_fsync, real_datasync, real_replace = os.fsync, os.fdatasync, os.replace

        def fsync(fd: int) -> None:
            self.events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
            real_fsync(fd)

        def fdatasync(fd: int) -> None:
            self.events.append(("fdatasync", os.readlink(f"/proc/self/fd/{fd}")))
            real_datasync(fd)

        def replace(src: object, dst: object) -> None:
            self.events.append(("rename", f"{src} -> {dst}"))
            real_replace(src, dst)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(durable, "_datasync", fdatasync)
        monkeypatch.setattr(os, "replace", replace)


def test_a_file_is_fsynced_before_the_rename_and_its_folder_after(tmp_path: Path, monkeypatch) -> None:
    calls = Calls(monkeypatch)
    dest = tmp_path / "out.nwb"
    with atomic_output(dest, overwrite=False) as tmp:
        tmp.write_bytes(b"x" * 1000)
        partial = str(tmp)
    kinds = [(kind, Path(what).name if kind != "rename" else "rename") for kind, what in calls.events]
    assert kinds == [("fsync", Path(partial).name), ("rename", "rename"), ("fsync", tmp_path.name)]
    assert dest.read_bytes() == b"x" * 1000


def test_every_file_of_a_store_is_fsynced_before_the_rename(tmp_path: Path, monkeypatch) -> None:
    calls = Calls(monkeypatch)
    dest = tmp_path / "out.nwb.zarr"
    with atomic_output(dest, overwrite=False) as tmp:
        (tmp / "acquisition" / "data").mkdir(parents=True)
        (tmp / ".zgroup").write_text("{}")
        (tmp / "acquisition" / "data" / "0.0").write_bytes(b"chunk")
        files = {".zgroup", "0.0", "data", "acquisition", tmp.name}
    rename = next(i for i, (kind, _) in enumerate(calls.events) if kind == "rename")
    before = {Path(what).name for kind, what in calls.events[:rename] if kind == "fsync"}
    assert before == files
    assert calls.events[rename + 1] == ("fsync", str(tmp_path))
    assert (dest / "acquisition" / "data" / "0.0").read_bytes() == b"chunk"


def test_a_failed_write_is_removed_and_nothing_renamed(tmp_path: Path, monkeypatch) -> None:
    calls = Calls(monkeypatch)
    dest = tmp_path / "out.nwb"
    with pytest.raises(RuntimeError), atomic_output(dest, overwrite=False) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("reader failed")
    assert not any(kind == "rename" for kind, _ in calls.events)
    assert list(tmp_path.iterdir()) == []


def test_writeback_flushes_while_the_writer_writes(tmp_path: Path, monkeypatch) -> None:
    calls = Calls(monkeypatch)
    path = tmp_path / "big.bin"
    block = os.urandom(1 << 20)
    with path.open("wb") as out, durable.Writeback(path, every=2 << 20) as writeback:
        for _ in range(8):
            out.write(block)
            out.flush()
            writeback.wrote(len(block))
    flushes = [what for kind, what in calls.events if kind == "fdatasync"]
    assert 1 <= len(flushes) <= 4  # one per 2 MiB written, skipped when one is still running
    assert set(flushes) == {str(path)}
    assert path.stat().st_size == 8 << 20


def test_writeback_with_nothing_written_flushes_nothing(tmp_path: Path, monkeypatch) -> None:
    calls = Calls(monkeypatch)
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    with durable.Writeback(path) as writeback:
        writeback.wrote(10)
    assert calls.events == []
