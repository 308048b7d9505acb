"""The test suite's task backend: each task runs in this process as soon as the
transaction that enqueued it has committed, as a worker would run it just after.

Tests see email in `mail.outbox` as before, through the whole outbox path (claim,
send, record), and an error in a task fails the test instead of being recorded on a
result nobody reads. Inside a test's own transaction nothing really commits, so "has
committed" means: the application's transaction ended without rolling back (the
task's on-commit callback is still registered) and the request is finished, or no
application transaction was open at all. Each task runs once. A task deferred to later
is not run here: the tests of retries use the database backend and real workers.
"""

from django.core.signals import request_finished
from django.db import connection, transaction
from django.utils import timezone

try:
    from django.tasks.backends.immediate import ImmediateBackend
except ImportError:
    from django_tasks.backends.immediate import ImmediateBackend


class _RunOnce:
    def __init__(self, task, task_result):
        self.task, self.task_result, self.done = task, task_result, False

    def __call__(self):
        if not self.done:
            self.done = True
            self.task.call(*self.task_result.args, **self.task_result.kwargs)


def _in_application_transaction() -> bool:
    return any(not block._from_testcase for block in connection.atomic_blocks)


class ImmediateOnCommitBackend(ImmediateBackend):
    supports_defer = True
    runs_after_commit = True  # so the outbox enqueues in the transaction, as with the database

    def _execute_task(self, task_result):
        task = task_result.task
        if task.run_after is not None and task.run_after > timezone.now():
            return
        run = _RunOnce(task, task_result)
        if _in_application_transaction():
            transaction.on_commit(run)
        else:
            run()


def _run_committed(**kwargs):
    """After a request inside a test's transaction: run the tasks its transaction would
    have committed (a rolled-back savepoint has dropped their callbacks)."""
    if _in_application_transaction():
        return
    for _sids, callback, _robust in list(connection.run_on_commit):
        if isinstance(callback, _RunOnce):
            callback()


request_finished.connect(_run_committed, dispatch_uid="outbox.testing.run_committed")
