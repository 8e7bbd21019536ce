"""Outputs are on disk before they take their final name: fsync of the file (or every file of a store), then
the rename, then fsync of the folder; big writes are flushed while they run."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from nwbconvert import durable, output
from nwbconvert.errors import OutputError
from nwbconvert.output import atomic_output


class Calls:
    """Records, in order, what was fsynced (by path) and renamed, while the real calls still run."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events: list[tuple[str, str]] = []
        real_fsync, real_datasync, real_replace = os.fsync, os.fdatasync, os.replace
        real_noreplace = durable.rename_noreplace

        def fsync(fd: int) -> None:
            self.events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
            real_fsync(fd)

        def fdatasync(fd: int) -> None:
            self.events.append(("fdatasync", os.readlink(f"/proc/self/fd/{fd}")))
            real_datasync(fd)

        def replace(src: object, dst: object) -> None:
            self.events.append(("rename", f"{src} -> {dst}"))
            real_replace(src, dst)  # type: ignore[arg-type]

        def rename_noreplace(src: Path, dst: Path) -> None:
            self.events.append(("rename", f"{src} -> {dst}"))
            real_noreplace(src, dst)

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(durable, "_datasync", fdatasync)
        monkeypatch.setattr(os, "replace", replace)
        monkeypatch.setattr(output, "rename_noreplace", rename_noreplace)


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


def test_the_rename_refuses_a_file_that_appeared_during_the_fsync(tmp_path: Path, monkeypatch) -> None:
    """A second run finishing after the exists-check (while this one flushes) keeps its file; exit 5's error."""
    dest = tmp_path / "out.nwb"
    real_fsync_tree = output.fsync_tree

    def other_run_finishes(path: Path) -> None:
        real_fsync_tree(path)
        dest.write_bytes(b"the other run's file")

    monkeypatch.setattr(output, "fsync_tree", other_run_finishes)
    with pytest.raises(OutputError) as refused, atomic_output(dest, overwrite=False) as tmp:
        tmp.write_bytes(b"this run's file")
    assert refused.value.exit_code == 5
    assert refused.value.message.startswith(f"{dest}: was created by another program")
    assert "It was not replaced" in refused.value.message and "--overwrite" in refused.value.message
    assert dest.read_bytes() == b"the other run's file"
    assert [p.name for p in tmp_path.iterdir()] == ["out.nwb"]  # the temporary is gone


def test_a_file_created_inside_the_block_is_not_replaced(tmp_path: Path) -> None:
    dest = tmp_path / "out.nwb"
    with pytest.raises(OutputError, match="was created by another program"), atomic_output(dest, False) as tmp:
        tmp.write_bytes(b"this run's file")
        dest.write_bytes(b"keep")
    assert dest.read_bytes() == b"keep"
    assert [p.name for p in tmp_path.iterdir()] == ["out.nwb"]


def test_a_store_that_appeared_during_the_fsync_is_not_replaced(tmp_path: Path, monkeypatch) -> None:
    dest = tmp_path / "out.nwb.zarr"
    real_fsync_tree = output.fsync_tree

    def other_run_finishes(path: Path) -> None:
        real_fsync_tree(path)
        dest.mkdir()
        (dest / ".zgroup").write_text('{"zarr_format": 2}')

    monkeypatch.setattr(output, "fsync_tree", other_run_finishes)
    with pytest.raises(OutputError, match="was created by another program"), atomic_output(dest, False) as tmp:
        tmp.mkdir()
        (tmp / ".zgroup").write_text("{}")
    assert (dest / ".zgroup").read_text() == '{"zarr_format": 2}'
    assert [p.name for p in tmp_path.iterdir()] == ["out.nwb.zarr"]


@pytest.mark.parametrize("rename", [durable.rename_noreplace, durable.link_noreplace])
def test_rename_noreplace_and_its_fallback_never_replace(rename, tmp_path: Path) -> None:
    src, dest = tmp_path / "src", tmp_path / "dest"
    src.write_bytes(b"new")
    dest.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        rename(src, dest)
    assert (src.read_bytes(), dest.read_bytes()) == (b"new", b"old")
    dest.unlink()
    rename(src, dest)
    assert dest.read_bytes() == b"new" and not src.exists()


def test_the_folder_fallback_never_replaces_a_store(tmp_path: Path) -> None:
    src, dest = tmp_path / "src.nwb.zarr", tmp_path / "dest.nwb.zarr"
    (src / "acquisition").mkdir(parents=True)
    dest.mkdir()
    (dest / ".zgroup").write_text("old")
    with pytest.raises(FileExistsError):
        durable._rename_folder(src, dest)
    assert (dest / ".zgroup").read_text() == "old" and (src / "acquisition").is_dir()


def test_renameat2_is_used_on_linux() -> None:
    assert durable._renameat2_function() is not None  # glibc >= 2.28: the atomic path, not the fallback


def test_writeback_flushes_while_the_writer_writes(tmp_path: Path, monkeypatch) -> None:
    calls = Calls(monkeypatch)
    path = tmp_path / "big.bin"
    block = os.urandom(1 << 20)
    with path.open("wb") as out, durable.Writeback(path, every=2 << 20) as writeback:
        for _ in range(8):
            out.write(block)
            out.flush()
            writeback.wrote(len(block))
        deadline = time.monotonic() + 10  # the flush thread runs beside the writer: give it its turn
        while not any(kind == "fdatasync" for kind, _ in calls.events) and time.monotonic() < deadline:
            time.sleep(0.01)
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
