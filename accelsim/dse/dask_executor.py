"""The `dask` executor: dask.distributed, either a LocalCluster of `workers` processes on this machine (one thread
each, on 127.0.0.1 only) or an existing scheduler by address (`tcp://host:8786`) whose workers may be on other
machines. Workers need accelsim installed, nothing else: each lowered workload is read by the driver and scattered
to the cluster once, and lowerings come back to the driver to be cached. A plugin warms every worker up as it
joins. Dask retries a task whose worker died; one that keeps killing workers comes back as `WorkerLost`."""

from __future__ import annotations

import logging

from distributed import Client, KilledWorker, LocalCluster, WorkerPlugin, wait

from accelsim.dse.evaluate import PointTask, evaluate_point, prepare_worker_process, prepared_workload
from accelsim.dse.local_executor import WorkerLost
from accelsim.dse.lowering import LoweringTask, lower_workload


class WarmUpPlugin(WorkerPlugin):
    """Runs on every worker of the cluster as it starts (or at once on those already running)."""

    def __init__(self, warm_up_archs: tuple):
        self.warm_up_archs = warm_up_archs

    def setup(self, worker) -> None:
        prepare_worker_process(self.warm_up_archs)


class DaskExecutor:
    name = "dask"
    isolates_lost_workers = True
    """Dask reruns a lost worker's tasks elsewhere and names the one that keeps killing workers (KilledWorker)."""
    broken = False
    """The scheduler replaces lost workers: the cluster is never broken as a whole."""

    def __init__(self, workers: int | None, scheduler: str | None, warm_up_archs: tuple):
        self._cluster = None
        if scheduler is not None:
            self._client = Client(scheduler, timeout="30s")
        else:
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                         dashboard_address=None, silence_logs=logging.ERROR)
            self._client = Client(self._cluster)
        self._client.register_plugin(WarmUpPlugin(warm_up_archs), name="accelsim-warm-up")
        self.workers = max(1, sum(self._client.nthreads().values()))
        self._shared: dict[tuple, object] = {}

    def submit_lowering(self, task: LoweringTask):
        return self._client.submit(lower_workload, task, pure=False)

    def submit_point(self, task: PointTask):
        key = (task.workload_path, task.layers)
        if key not in self._shared:
            # on every worker: otherwise the tasks would crowd onto the one worker holding the workload
            # (in a list: scatter would send each element of the (workload, density) pair as its own future)
            self._shared[key] = self._client.scatter([prepared_workload(*key)], hash=False, broadcast=True)[0]
        return self._client.submit(evaluate_point, task, self._shared[key], pure=False)

    def wait(self, futures, timeout: float) -> set:
        try:
            return set(wait(list(futures), timeout=timeout, return_when="FIRST_COMPLETED").done)
        except TimeoutError:
            return set()

    def result(self, future):
        try:
            return future.result()
        except KilledWorker as error:
            raise WorkerLost(f"workers died while running it ({error})") from None

    def release(self, workload_path: str, layers) -> None:
        """Drop a workload from the cluster's memory once no point needs it (it is scattered again if one does)."""
        shared = self._shared.pop((workload_path, layers), None)
        if shared is not None:
            shared.release()

    def recover(self) -> None:
        """Nothing to do: the scheduler replaces lost workers' tasks itself."""

    def close(self, *, cancel: bool = False) -> None:
        if cancel:
            self._client.cancel(list(self._shared.values()), force=True)
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
