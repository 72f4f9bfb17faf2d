"""Background jobs of the core app, and their schedule."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.tasks import task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from delegate.core.scheduler import prune_runs, register

# Overridable through the HOUSEKEEPING_KEEP_DAYS setting.
DEFAULT_KEEP_DAYS = 14


@task
def prune_history(keep_days: int | None = None) -> dict[str, int]:
    """Delete scheduler claims and finished (successful or failed) task results older than
    ``keep_days``. Idempotent: running it twice deletes nothing the second time."""
    if keep_days is None:
        keep_days = getattr(settings, "HOUSEKEEPING_KEEP_DAYS", DEFAULT_KEEP_DAYS)
    cutoff = timezone.now() - timedelta(days=keep_days)
    # The same query as django_tasks_db's prune_db_task_results command, across all
    # queues and backends; calling the query directly gives us the count back.
    results, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    runs = prune_runs(before=cutoff)
    return {"task_results": results, "scheduler_runs": runs}


register("core.prune_history", every=timedelta(days=1), task=prune_history)


@task
def optimize_database() -> str:
    """Keep the query planner's statistics fresh. PostgreSQL's autovacuum does this by
    itself; SQLite only when asked, and without statistics it can pick a poor index for
    the queue pages once an agency has many tasks."""
    if connection.vendor != "sqlite":
        return "skipped"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA optimize")
    return "optimized"


register("core.optimize_database", every=timedelta(hours=1), task=optimize_database)
