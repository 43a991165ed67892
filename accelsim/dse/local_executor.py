"""The `local` executor: a pool of worker processes on this machine (one per core by default), each warmed up once
as it starts. A worker that dies (killed, out of memory) breaks the pool: the points it held come back as
`WorkerLost`, the pool is started again, and the dispatcher reruns those points one at a time to find the one that
kills its worker."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from accelsim.dse.evaluate import PointTask, evaluate_point, init_worker
from accelsim.dse.lowering import LoweringTask, lower_workload


class WorkerLost(RuntimeError):
    """The worker running a task died before returning."""


class LocalExecutor:
    name = "local"
    isolates_lost_workers = False
    """A broken pool fails every task in flight, so the dispatcher must find the culprit itself."""

    def __init__(self, workers: int, warm_up_archs: tuple):
        self.workers = workers
        self.broken = False
        """True from a lost worker until `recover`: the pool takes no more work."""
        self._warm_up_archs = warm_up_archs
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # spawn: the driver may hold torch's and numba's threads, which a forked child must not inherit
        pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=init_worker, initargs=(self._warm_up_archs,))
        try:
            pool.submit(os.getpid).result()
        except BrokenProcessPool:
            pool.shutdown(wait=False, cancel_futures=True)
            raise RuntimeError("the sweep's worker processes die as they start. A script that runs a sweep must "
                               "start it under `if __name__ == \"__main__\":` (workers import the main module, as "
                               "in every multiprocessing program)") from None
        return pool

    def submit_lowering(self, task: LoweringTask) -> Future:
        return self._submit(lower_workload, task)

    def submit_point(self, task: PointTask) -> Future:
        return self._submit(evaluate_point, task)

    def _submit(self, function, task) -> Future:
        try:
            return self._pool.submit(function, task)
        except BrokenProcessPool as error:  # broke since the dispatcher last looked: the task comes back lost
            future: Future = Future()
            future.set_exception(error)
            return future

    def wait(self, futures, timeout: float) -> set:
        return wait(futures, timeout=timeout, return_when=FIRST_COMPLETED).done

    def result(self, future: Future):
        try:
            return future.result()
        except BrokenProcessPool as error:
            self.broken = True
            raise WorkerLost(f"the worker process died ({error})") from None

    def release(self, workload_path: str, layers) -> None:
        """Nothing to do: each worker keeps the few workloads it used last and reads others from disk."""

    def recover(self) -> None:
        """A new pool after a worker died (the old one refuses work)."""
        self._terminate()
        self._pool = self._start()
        self.broken = False

    def close(self, *, cancel: bool = False) -> None:
        if cancel:
            self._terminate()
        else:
            self._pool.shutdown(wait=True)

    def _terminate(self) -> None:
        """Stop the pool's own worker processes now (work in flight is abandoned, never recorded)."""
        processes = list(getattr(self._pool, "_processes", {}).values())  # the pool keeps no public handle
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)
