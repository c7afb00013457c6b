"""Runs the root action ``a0`` of each run on a worker thread: QUEUED -> INITIALIZING -> RUNNING -> a terminal phase.

The terminal phase is SUCCEEDED with the behaviour's outputs, FAILED with its error, ABORTED when
:meth:`RunEngine.abort` was called meanwhile, or TIMED_OUT when the task template's ``metadata.timeout`` passed first.
What the action does comes from :mod:`~flyte_admin_sandbox.v2.behaviours`; every phase is written through the
store, which wakes the watch streams.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from flyteidl2.common import phase_pb2
from flyteidl2.workflow import run_definition_pb2

from flyte_admin_sandbox.v2.behaviours import Behaviours, TaskFailure, outputs_of
from flyte_admin_sandbox.v2.store import RunRecord, Store

log = logging.getLogger(__name__)

_POLL = 0.05


@dataclass
class _Worker:
    abort: threading.Event = field(default_factory=threading.Event)
    reason: str | None = None
    thread: threading.Thread | None = None


class RunEngine:
    """Starts, times and aborts runs.

    Args:
        store: Where runs are read and progress is written.
        behaviours: What tasks do.
        task_delay: Seconds an action without a scripted duration runs.
        phase_delay: Seconds spent in QUEUED and in INITIALIZING each.
    """

    def __init__(self, store: Store, behaviours: Behaviours, task_delay: float = 0.05, phase_delay: float = 0.01):
        self.store = store
        self.behaviours = behaviours
        self.task_delay = task_delay
        self.phase_delay = phase_delay
        self._workers: dict[tuple[str, str, str], _Worker] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._paused = False

    @staticmethod
    def _key(record: RunRecord) -> tuple[str, str, str]:
        return record.run_id.project, record.run_id.domain, record.run_id.name

    def start(self, record: RunRecord) -> None:
        """Run a stored run's root action on a new worker thread.

        Nothing happens while the engine is stopped (:meth:`stop`) or when the run already has a live worker:
        :meth:`resume` starts the run later.
        """
        worker = _Worker()
        name = f"flyte2-run-{record.run_id.name}"
        worker.thread = threading.Thread(target=self._run, args=(record, worker), name=name, daemon=True)
        with self._lock:
            existing = self._workers.get(self._key(record))
            if self._paused or (existing is not None and existing.thread is not None and existing.thread.is_alive()):
                return
            self._workers[self._key(record)] = worker
        worker.thread.start()

    def resume(self) -> None:
        """Start again every unfinished run: left by a previous sandbox on the same database, or by :meth:`stop`."""
        with self._lock:
            self._paused = False
        for record in self.store.list_runs():
            if not record.terminal:
                self.start(record)

    def stop(self, timeout: float = 1.0) -> None:
        """Stop every worker, leaving their runs as stored, until :meth:`resume` (a control plane restarting).

        Args:
            timeout: Seconds to wait, in all, for the workers to stop (a task function already called finishes).
        """
        with self._lock:
            self._paused = True
            workers = list(self._workers.values())  # kept: resume() skips a run whose task is still finishing
        deadline = time.monotonic() + timeout
        for worker in workers:
            worker.abort.set()  # no reason: the run is left as it is
            if worker.thread is not None:
                worker.thread.join(max(0.0, deadline - time.monotonic()))

    def abort(self, record: RunRecord, reason: str, wait: float = 2.0) -> RunRecord:
        """Abort a run that is not terminal; wait up to ``wait`` seconds for ABORTED to be written.

        Returns:
            The run as stored afterwards.
        """
        with self._lock:
            worker = self._workers.get(self._key(record))
        alive = worker is not None and worker.thread is not None and worker.thread.is_alive()
        if worker is not None and alive:
            worker.reason = reason
            worker.abort.set()
            if worker.thread is not None:
                worker.thread.join(wait)
        else:
            self._finish(record, run_definition_pb2.ErrorInfo(), aborted=reason)
        stored = self.store.get_run(*self._key(record))
        return stored if stored is not None else record

    def close(self, timeout: float = 0.5) -> None:
        """Stop every worker (their runs stay as they are in the store) and wait a little for them."""
        self._closed.set()
        with self._lock:
            workers = list(self._workers.values())
        deadline = time.monotonic() + timeout
        for worker in workers:
            worker.abort.set()
            if worker.thread is not None:
                worker.thread.join(max(0.0, deadline - time.monotonic()))

    def _set_phase(self, record: RunRecord, phase: int) -> None:
        record.phase = phase
        if phase == phase_pb2.ACTION_PHASE_RUNNING:
            record.started_at = time.time()
        self.store.update_run(record)

    def _finish(self, record: RunRecord, error: run_definition_pb2.ErrorInfo, *, aborted: str | None = None) -> None:
        record.ended_at = time.time()
        if aborted is not None:
            record.phase = phase_pb2.ACTION_PHASE_ABORTED
            record.abort_reason = aborted
        else:
            record.phase = phase_pb2.ACTION_PHASE_FAILED
            record.error = error
        self.store.update_run(record)

    def _wait(self, seconds: float | None, worker: _Worker, task_name: str) -> bool:
        """Sleep ``seconds`` (for ever when ``None``); ``False`` when aborted or closed meanwhile.

        A hanging action (``None``) also ends when its task is given a behaviour that no longer hangs.
        """
        deadline = None if seconds is None else time.monotonic() + seconds
        while not worker.abort.is_set() and not self._closed.is_set():
            remaining = _POLL if deadline is None else min(_POLL, deadline - time.monotonic())
            if remaining <= 0:
                return True
            worker.abort.wait(remaining)
            if deadline is None:
                behaviour = self.behaviours.get(task_name)
                if behaviour is None or not behaviour.hang:
                    return True
        return False

    def _run(self, record: RunRecord, worker: _Worker) -> None:
        try:
            self._drive(record, worker)
        except Exception:  # a bug in the sandbox: fail the run rather than leave it running
            if self._closed.is_set():
                return  # the store closed under a slow task: nothing to record any more
            log.exception("run %s crashed", record.run_id.name)
            self._finish(record, TaskFailure("sandbox engine error", "SandboxError").to_proto())

    def _drive(self, record: RunRecord, worker: _Worker) -> None:
        task_name = record.task_id.name
        for phase in (phase_pb2.ACTION_PHASE_QUEUED, phase_pb2.ACTION_PHASE_INITIALIZING):
            if record.phase < phase:  # a resumed run does not go back to an earlier phase
                self._set_phase(record, phase)
            if not self._wait(self.phase_delay, worker, task_name):
                return self._stopped(record, worker)
        self._set_phase(record, phase_pb2.ACTION_PHASE_RUNNING)
        behaviour = self.behaviours.get(task_name)
        duration = None if behaviour is not None and behaviour.hang else self.task_delay
        if behaviour is not None and behaviour.duration is not None and not behaviour.hang:
            duration = behaviour.duration
        timeout = record.task_spec.task_template.metadata.timeout.ToTimedelta().total_seconds() or None
        timed_out = timeout is not None and (duration is None or duration > timeout)
        if not self._wait(timeout if timed_out else duration, worker, task_name):
            return self._stopped(record, worker)
        if timed_out:
            record.phase = phase_pb2.ACTION_PHASE_TIMED_OUT
            record.error = TaskFailure(f"task timed out after {timeout} s", "Timeout").to_proto()
            record.ended_at = time.time()
            return self.store.update_run(record)
        try:
            record.outputs = outputs_of(self.behaviours.get(task_name), record.task_spec, record.inputs)
        except TaskFailure as failure:
            return self._finish(record, failure.to_proto())
        record.phase = phase_pb2.ACTION_PHASE_SUCCEEDED
        record.ended_at = time.time()
        self.store.update_run(record)

    def _stopped(self, record: RunRecord, worker: _Worker) -> None:
        if worker.reason is None:
            return  # the sandbox is closing: leave the run as it is (a file store resumes it)
        self._finish(record, run_definition_pb2.ErrorInfo(), aborted=worker.reason)
