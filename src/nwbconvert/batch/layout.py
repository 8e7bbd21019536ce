"""Where a study's files go: DANDI paths of the sessions and the run's state folder; the session lock.

    <out>/sub-<subject>/sub-<subject>_ses-<session>_ecephys.nwb
    <out>/.nwbconvert/{manifest,locks,logs}/<key>.{json,lock,log}     (hidden: dandi upload ignores it)

Labels are sanitised as DANDI does: only ASCII letters, digits and '-' remain, every other run of characters
becomes one '-', so no metadata value ('../../etc', '/abs/path', 'a_b') can name a file outside the output folder.

The session lock is an OS lock (flock) on `<key>.lock`: the kernel (or the NFS server) releases it when its
holder dies however it dies, so whether a lock is stale is never guessed from a pid or a timeout, and a holder
that is still alive is never taken over. The file holds the holder's host, pid and a random token. A holder
checks (`SessionLock.owned`) that the file at the path is still the one it locked and holds its token, every
FENCE_POLL_S while it converts and again before it records the session: if the file was removed or replaced
(the state folder deleted, a lease lost on a network file system), another run may hold the session now, and
this one is fenced out (see runner.run_session). Where the file system has no flock, the older scheme of
manifest.py is used (an O_CREAT|O_EXCL file, stale when its process is dead or, from another host, not
refreshed for its STALE_AFTER_S), with the same fencing.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from nwbconvert.errors import UsageError

STATE = ".nwbconvert"
SUFFIX = "ecephys"
_NOT_LABEL = re.compile(r"[^A-Za-z0-9-]+")
FENCE_POLL_S = 0.5  # a lock holder checks this often that it still owns its lock
HEARTBEAT_S = 60.0  # without flock: a held lock's modification time is refreshed this often (manifest.py)
_NO_FLOCK = {errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL}


def label(value: str, what: str = "label") -> str:
    """A DANDI entity label: 'm_1' -> 'm-1', '../../etc' -> 'etc'. Nothing left -> UsageError."""
    text = re.sub("-{2,}", "-", _NOT_LABEL.sub("-", value)).strip("-")
    if not text:
        raise UsageError(
            f"{what} {value!r} has no letters or digits, so it cannot name a file in DANDI layout "
            "(sub-<subject>_ses-<session>). Give it letters or digits."
        )
    return text


def session_key(subject_id: str, session_id: str) -> str:
    """'sub-m1_ses-day1' (or 'sub-m1' without a session id): names the output, log, lock and manifest entry."""
    key = f"sub-{label(subject_id, 'subject_id')}"
    return f"{key}_ses-{label(session_id, 'session_id')}" if session_id else key


def session_path(output_dir: Path, subject_id: str, session_id: str) -> Path:
    """<out>/sub-<subject>/<key>_ecephys.nwb, absolute."""
    root = output_dir.expanduser().absolute()
    return root / f"sub-{label(subject_id, 'subject_id')}" / f"{session_key(subject_id, session_id)}_{SUFFIX}.nwb"


def output_root(output: Path) -> Path:
    """The output folder of a session file written by `session_path`."""
    return output.parent.parent


def state_dir(output_dir: Path) -> Path:
    """<out>/.nwbconvert: manifest, locks and logs of batch runs."""
    return output_dir / STATE


def manifest_path(output: Path, key: str) -> Path:
    return state_dir(output_root(output)) / "manifest" / f"{key}.json"


def lock_path(output: Path, key: str) -> Path:
    return state_dir(output_root(output)) / "locks" / f"{key}.lock"


def log_path(output: Path, key: str) -> Path:
    return state_dir(output_root(output)) / "logs" / f"{key}.log"


def remove_empty(folders: Iterable[Path]) -> None:
    """Remove those of `folders` that are empty: subject folders a batch created for sessions that all failed.
    A folder another session or run has begun writing into is not empty, and stays."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            continue


def check_unique(sessions: Iterable[tuple[str, Path]]) -> None:
    """(where a session came from, its output) pairs: two sessions writing one file -> one UsageError listing them
    (compared without case, as macOS and Windows file systems do)."""
    by_path: dict[str, list[tuple[str, Path]]] = {}
    for origin, output in sessions:
        by_path.setdefault(str(output).lower(), []).append((origin, output))
    clashes = [group for group in by_path.values() if len(group) > 1]
    if clashes:
        lines = "\n".join(f"  - {group[0][1]}: " + "; ".join(origin for origin, _ in group) for group in clashes[:20])
        raise UsageError(
            f"{len(clashes)} output file(s) would be written by more than one session (labels keep only letters, "
            f"digits and '-', so e.g. 'm_1' and 'm-1' are the same subject):\n{lines}\n"
            "Give those sessions distinct subject_id/session_id values."
        )


# -- the session lock ------------------------------------------------------------------------------------------


@dataclass
class SessionLock:
    """A held session lock: its file, what this holder wrote in it, and (under flock) the open file it locked."""

    path: Path
    mine: bytes
    fd: int | None  # None where the file system has no flock (the manifest.py scheme)
    lost: bool = False  # set by the watch once another run took the lock over

    def owned(self) -> bool:
        """Whether this holder still owns the lock: the file at `path` is the one it locked and holds its token."""
        try:
            if self.fd is None:
                return self.path.read_bytes() == self.mine
            if not _same_file(self.fd, self.path):
                return False
            # read through the locked file itself: where flock is emulated by POSIX locks (NFS), closing another
            # descriptor of the file would release them
            return os.pread(self.fd, len(self.mine) + 1, 0) == self.mine
        except OSError:
            return False

    def release(self) -> None:
        """Remove the lock file if it is still ours (while still holding the flock), then let go of it."""
        try:
            if self.owned():
                self.path.unlink()
        except OSError:
            pass
        finally:
            if self.fd is not None:
                os.close(self.fd)


@contextmanager
def session_lock(output: Path, key: str, on_lost: Callable[[], None] | None = None) -> Iterator[SessionLock | None]:
    """Hold the lock of session `key` (output file `output`): yields the lock, or None when a live run holds it.
    While held, a thread checks every FENCE_POLL_S that it is still owned; once it is not, `lock.lost` is set and
    `on_lost` called (again every 50 ms, until the block ends: e.g. `interrupts.request`, which the conversion
    honours at its next safe point, the last one just before its output takes its final name)."""
    path = lock_path(output, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = _take(path)
    if lock is None:
        yield None
        return
    stop = threading.Event()
    watch = threading.Thread(target=_watch, args=(lock, stop, on_lost), name=f"lock {key}", daemon=True)
    watch.start()
    try:
        yield lock
    finally:
        stop.set()
        watch.join()
        lock.release()


def _take(path: Path) -> SessionLock | None:
    """flock the lock file (made if missing) without waiting; None when another process holds it."""
    import fcntl

    for _ in range(5):
        fd, created = _open_lock(path)
        if fd is None:
            continue  # removed between two opens: try again
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except OSError as exc:
            os.close(fd)
            if exc.errno not in _NO_FLOCK:
                raise
            if created:
                path.unlink(missing_ok=True)
            return _take_without_flock(path)
        if _same_file(fd, path):
            mine = _identity()
            os.ftruncate(fd, 0)
            os.pwrite(fd, mine, 0)
            os.fsync(fd)
            return SessionLock(path, mine, fd)
        os.close(fd)  # its holder removed it as it released it, after we opened it: lock the new file
    return None


def _open_lock(path: Path) -> tuple[int | None, bool]:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644), True
    except FileExistsError:
        pass
    try:
        return os.open(path, os.O_RDWR), False
    except FileNotFoundError:
        return None, False


def _same_file(fd: int, path: Path) -> bool:
    try:
        held, now = os.fstat(fd), os.stat(path)
    except FileNotFoundError:
        return False
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


def _take_without_flock(path: Path) -> SessionLock | None:
    from nwbconvert.batch.manifest import _acquire

    mine = _acquire(path)
    return None if mine is None else SessionLock(path, mine, None)


def _identity() -> bytes:
    since = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    doc = {"host": socket.gethostname(), "pid": os.getpid(), "token": uuid.uuid4().hex, "since": since}
    return json.dumps(doc).encode()


def _watch(lock: SessionLock, stop: threading.Event, on_lost: Callable[[], None] | None) -> None:
    """Check the lock every FENCE_POLL_S (refreshing it without flock); once lost, call `on_lost` until stopped."""
    beats = 0
    while not stop.wait(FENCE_POLL_S):
        if not lock.owned():
            lock.lost = True
            while on_lost is not None and not stop.is_set():
                on_lost()
                stop.wait(0.05)
            return
        beats += 1
        if lock.fd is None and beats * FENCE_POLL_S >= HEARTBEAT_S:
            beats = 0
            with suppress(OSError):
                os.utime(lock.path)
