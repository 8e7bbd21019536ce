"""Where the sessions of a batch run: a local process pool (default) or a Dask distributed cluster.

Cores are shared between the two levels of parallelism: a machine converting S sessions at once gives each
session's compression pool `cores // S` threads (at least one), so sessions x threads stays near the core count.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from nwbconvert.batch.model import SessionJob, SessionOutcome, Status
from nwbconvert.batch.runner import INTERNAL_ERROR, marker_path, run_session, started_by, worker_signals
from nwbconvert.errors import UsageError
from nwbconvert.orphans import end_with_parent

if TYPE_CHECKING:
    from distributed import Client


def cores() -> int:
    """Cores this process may use (a SLURM/PBS allocation or taskset, not the whole node)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def default_sessions() -> int:
    """Sessions at once on the pool by default: half the cores, so each session compresses on two threads
    while another reads; at least one."""
    return max(1, cores() // 2)


def threads_per_session(sessions_at_once: int, available: int | None = None) -> int:
    return max(1, (available or cores()) // max(1, sessions_at_once))


class Engine(Protocol):
    def run(self, jobs: Sequence[SessionJob], force: bool) -> Iterator[SessionOutcome]:
        """Outcomes of `jobs`, each as soon as its session ends (any order)."""
        ...

    def describe(self) -> str: ...


def engine_failure(job: SessionJob, family: str, message: str) -> SessionOutcome:
    """A session that ended outside `run_session` (its worker died, its task failed): exit code of a bug."""
    return SessionOutcome(
        job.key, Status.FAILED, job.output, None, exit_code=INTERNAL_ERROR, error_family=family, message=message
    )


def worker_died(job: SessionJob, how: str) -> SessionOutcome:
    return engine_failure(
        job,
        "WorkerDied",
        f"{how} while converting {job.key}, so nothing was written for it (out of memory, or killed?). "
        "Run the batch again to retry it; its log may show how far it got.",
    )


# -- local process pool --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessPool:
    """`sessions` worker processes on this machine (spawned: no forked threads or open HDF5 files)."""

    sessions: int

    def describe(self) -> str:
        return f"{self.sessions} session(s) at once on this machine, {threads_per_session(self.sessions)} core(s) each"

    def run(self, jobs: Sequence[SessionJob], force: bool) -> Iterator[SessionOutcome]:
        threads = threads_per_session(self.sessions)
        pending = [replace(j, options=replace(j.options, jobs=threads)) for j in jobs]
        while pending:  # a dead worker breaks the pool: fail the session it ran, rerun the rest on a new pool
            again = yield from self._pool(pending, force)
            if len(again) == len(pending):  # no session started on that pool: the workers cannot even start
                for job in again:
                    yield worker_died(job, "The worker processes died before starting the session")
                return
            pending = again

    def _pool(self, jobs: Sequence[SessionJob], force: bool) -> Generator[SessionOutcome, None, list[SessionJob]]:
        """Run `jobs` on a new pool; returns those that never started there because a dead worker broke it.

        A session the pool did not finish started there if its progress marker names this pool (`run_id`), read
        once every worker has exited: the dead worker's session kept its marker, the others removed theirs as
        they stopped. Never by the worker's liveness: a killed process may still be exiting as the pool breaks.
        """
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        run_id = uuid.uuid4().hex
        context = multiprocessing.get_context("spawn")
        workers = min(self.sessions, len(jobs))
        executor = ProcessPoolExecutor(workers, context, initializer=start_worker, initargs=(os.getpid(),))
        futures: dict[Future[SessionOutcome], SessionJob] = {}
        broken: list[SessionJob] = []  # the sessions the pool broke under, whether they had started or not
        try:
            for job in jobs:
                try:
                    futures[executor.submit(run_session, job, force, run_id)] = job
                except BrokenProcessPool:  # a worker died while the sessions were being queued
                    broken.append(job)
            remaining = set(futures)
            while remaining:
                done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                for future in done:
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        broken.append(futures[future])
        except BaseException:  # Ctrl-C, SIGTERM: workers stop at their next chunk and clean up
            for child in multiprocessing.active_children():
                child.terminate()
            raise
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
        again: list[SessionJob] = []
        for job in broken:
            if started_by(job, run_id):
                marker_path(job).unlink(missing_ok=True)
                yield worker_died(job, "The worker process died")
            else:
                again.append(job)
        return again


def start_worker(batch_pid: int) -> None:
    """A pool worker's initializer: it dies with its batch, and SIGINT/SIGTERM stop it at a safe point.

    A worker left behind by a batch killed with SIGKILL (no cleanup runs then) would go on converting its session,
    lock held, while the user reruns the batch. On Linux the kernel SIGKILLs the worker as soon as the batch
    process dies (`orphans.end_with_parent`; the pool's workers are spawned by the thread that runs the batch,
    which ends with it). A worker killed so leaves its temporary output
    (`.NAME.PID.nwbconvert-partial.nwb`: the output takes its final name only once complete), which the next
    run of that session removes, and its lock file, whose flock the kernel released (lock.py).
    """
    end_with_parent(batch_pid)
    worker_signals()


# -- Dask distributed ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DaskCluster:
    """An existing cluster (`scheduler` address; never started or closed here) or a LocalCluster of `workers`
    single-threaded worker processes, started and closed around the batch."""

    scheduler: str | None = None
    workers: int | None = None

    def describe(self) -> str:
        if self.scheduler:
            return f"Dask cluster at {self.scheduler}"
        return f"Dask LocalCluster of {self.workers} worker process(es)"

    def run(self, jobs: Sequence[SessionJob], force: bool) -> Iterator[SessionOutcome]:
        from distributed import as_completed

        from nwbconvert.batch.dask_stop import stop_event, stop_sessions

        with self._client() as client:
            threads = _threads_by_worker(client)
            token = uuid.uuid4().hex[:8]
            stop = stop_event(client, token)
            keys = [f"nwbconvert-{j.key}-{token}" for j in jobs]
            futures = client.map(_on_worker, jobs, force=force, threads=threads, stop=stop.name, key=keys, pure=False)
            by_key = {f.key: j for f, j in zip(futures, jobs)}
            try:
                for future in as_completed(futures, loop=client.loop):
                    yield _outcome(future, by_key[future.key])
            except BaseException:  # Ctrl-C, SIGTERM: the running sessions stop at their next chunk (dask_stop.py)
                stop_sessions(client, stop, futures)
                raise
            finally:
                client.cancel(futures)

    def _client(self) -> _ClientContext:
        return _ClientContext(self.scheduler, self.workers)


class _ClientContext:
    """A connected Client; closes the LocalCluster it started, never an existing cluster."""

    def __init__(self, scheduler: str | None, workers: int | None) -> None:
        self.scheduler, self.workers = scheduler, workers
        self.cluster: Any = None
        self.client: Client | None = None

    def __enter__(self) -> Client:
        import logging

        from distributed import Client, LocalCluster

        if self.scheduler:
            try:
                self.client = Client(self.scheduler, timeout="10s", set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise UsageError(
                    f"--scheduler {self.scheduler}: cannot connect ({exc}). Start the scheduler first "
                    "(`dask scheduler`, or a dask-jobqueue cluster; see docs/cluster.md) and check the address."
                ) from exc
            return self.client
        from nwbconvert.batch.dask_stop import ignoring_ctrl_c

        with ignoring_ctrl_c():  # the terminal's Ctrl-C reaches the workers too; the client stops them
            self.cluster = LocalCluster(
                n_workers=self.workers,
                processes=True,
                threads_per_worker=1,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        self.client = Client(self.cluster, set_as_default=False)
        return self.client

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _threads_by_worker(client: Client) -> dict[str, int]:
    """Compression threads per session for each connected worker: the host's cores over the sessions that host
    runs at once (every worker thread on it converts one). Workers joining later work it out themselves."""
    try:
        workers = client.scheduler_info(n_workers=-1)["workers"]
        host_cores = client.run(cores)
    except Exception:
        return {}
    sessions: dict[str, int] = {}
    for info in workers.values():
        sessions[info["host"]] = sessions.get(info["host"], 0) + int(info["nthreads"])
    return {
        address: threads_per_session(sessions[info["host"]], host_cores.get(address))
        for address, info in workers.items()
    }


def _on_worker(job: SessionJob, force: bool, threads: dict[str, int], stop: str) -> SessionOutcome:
    """What a Dask worker runs: the session, with the compression threads its share of the host's cores allows,
    stopping at its next safe point once the batch's Event `stop` is set."""
    from distributed import get_worker

    from nwbconvert.batch.dask_stop import stopped_by

    worker = get_worker()
    n = threads.get(worker.address) or threads_per_session(worker.state.nthreads)
    with stopped_by(stop):
        return run_session(replace(job, options=replace(job.options, jobs=n)), force)


def _outcome(future: object, job: SessionJob) -> SessionOutcome:
    from distributed import KilledWorker

    try:
        result = future.result()  # type: ignore[attr-defined]
    except KilledWorker:
        return worker_died(job, "Dask workers died repeatedly")
    except Exception as exc:  # e.g. nwbconvert missing on a worker, a result that cannot travel back
        return engine_failure(
            job,
            "DaskError",
            f"The Dask task of {job.key} failed ({type(exc).__name__}: {exc}). Check that the workers run "
            "the same nwbconvert as this machine and see the same files.",
        )
    assert isinstance(result, SessionOutcome)
    return result
