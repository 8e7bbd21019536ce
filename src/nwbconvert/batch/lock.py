"""The session lock of a batch run: an OS lock (flock) on `<out>/.nwbconvert/locks/<key>.lock`.

The kernel (or the NFS server) releases it when its holder dies however it dies, so whether a lock is stale is
never guessed from a pid or a timeout, and a holder that is still alive is never taken over. The file holds the
holder's host, pid, process start and a random token. A holder checks (`SessionLock.owned`) that the file at the
path is still the one it locked and holds its token, every FENCE_POLL_S while it converts and again before it
records the session: if the file was removed or replaced (the state folder deleted, a lease lost on a network
file system), another run may hold the session now, and this one is fenced out (see runner.run_session).

Where the file system has no flock, `take_exclusive` is used: an O_CREAT|O_EXCL file, stale when its process is
dead on this host or, from another host, not refreshed for STALE_AFTER_S (a held lock is refreshed every
HEARTBEAT_S), with the same fencing.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from nwbconvert.batch.layout import lock_path
from nwbconvert.output import zombie

FENCE_POLL_S = 0.5  # a lock holder checks this often that it still owns its lock
HEARTBEAT_S = 60.0  # without flock: a held lock's modification time is refreshed this often
STALE_AFTER_S = 600.0  # without flock: a lock of another host not refreshed for this long belongs to a dead run
EMPTY_GRACE_S = (
    30.0  # without flock: an empty lock (its writer died between creating and filling it) is stale after this
)
_NO_FLOCK = {errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL}


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
def session_lock(output: Path, key: str) -> Iterator[SessionLock | None]:
    """Hold the lock of session `key` (output file `output`): yields the lock, or None when a live run holds it.
    While held, a thread checks every FENCE_POLL_S that it is still owned and sets `lock.lost` once it is not (the
    conversion itself asks `lock.owned` at every safe point: `interrupts.fenced`)."""
    path = lock_path(output, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = _take(path)
    if lock is None:
        yield None
        return
    stop = threading.Event()
    watch = threading.Thread(target=_watch, args=(lock, stop), name=f"lock {key}", daemon=True)
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
    mine = take_exclusive(path)
    return None if mine is None else SessionLock(path, mine, None)


def _identity() -> bytes:
    """Who holds the lock: host, pid and process start (for the no-flock scheme's staleness), a random token."""
    doc = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "start": _process_start(os.getpid()),
        "token": uuid.uuid4().hex,
        "since": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    return json.dumps(doc).encode()


def _watch(lock: SessionLock, stop: threading.Event) -> None:
    """Check the lock every FENCE_POLL_S (refreshing it without flock) until it is lost or released."""
    beats = 0
    while not stop.wait(FENCE_POLL_S):
        if not lock.owned():
            lock.lost = True
            return
        beats += 1
        if lock.fd is None and beats * FENCE_POLL_S >= HEARTBEAT_S:
            beats = 0
            with suppress(OSError):
                os.utime(lock.path)


# -- without flock: an O_CREAT|O_EXCL file whose staleness is judged from its holder


def take_exclusive(path: Path) -> bytes | None:
    """Create the lock (O_CREAT|O_EXCL) holding this process's identity; the bytes written, or None when held."""
    mine = _identity()
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                held = path.read_bytes()
            except FileNotFoundError:
                continue  # released meanwhile: try again
            if not _is_stale(path, held) or not _break(path, held):
                return None
            continue
        try:
            os.write(fd, mine)
        finally:
            os.close(fd)
        return mine
    return None


def _break(path: Path, held: bytes) -> bool:
    """Remove a stale lock, unless another run has taken it over meanwhile: one breaker at a time (its own
    O_EXCL file), and only if the lock still holds what was judged stale."""
    breaker = path.with_name(path.name + ".break")
    try:
        fd = os.open(breaker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        with suppress(OSError):
            if time.time() - breaker.stat().st_mtime > EMPTY_GRACE_S:  # its breaker died mid-way
                breaker.unlink()
        return False
    os.close(fd)
    try:
        if path.read_bytes() != held:
            return False
        path.unlink()
        return True
    except FileNotFoundError:
        return True
    finally:
        breaker.unlink(missing_ok=True)


def _is_stale(path: Path, held: bytes) -> bool:
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return True
    try:
        holder = json.loads(held)
        host, pid, start = str(holder["host"]), int(holder["pid"]), holder.get("start")
    except (ValueError, KeyError, TypeError):
        return age > EMPTY_GRACE_S  # being written, or its writer died before filling it
    if host != socket.gethostname():
        return age > STALE_AFTER_S
    return not _alive(pid, start)


def _alive(pid: int, start: int | None) -> bool:
    """Whether process `pid` of this host runs, and is the one that took the lock (not a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if zombie(pid):  # killed, not yet reaped
        return False
    now = _process_start(pid)
    return start is None or now is None or now == start


def _process_start(pid: int) -> int | None:
    """When the process started, in clock ticks since boot (Linux); None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None
