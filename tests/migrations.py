"""Running a data migration for real in a test: back to the state before it, rows written with
that state's historical models, then forward to every app's latest."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets):
    """Migrate to ``targets``; the historical apps of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def latest():
    # Every app's latest: going back also unapplied what depends on the target elsewhere.
    return MigrationExecutor(connection).loader.graph.leaf_nodes()
