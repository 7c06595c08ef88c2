"""Backups: one ``.tar.gz`` holding the database and the data dir's files, and restoring one.

``python -m quantum_voice.core.backup create [--output PATH]`` and ``… restore PATH [--yes]`` (``make backup``,
``make restore FILE=…``; docs/operations.md, "Backups").

An archive holds ``manifest.json`` (what is inside, with sizes and SHA-256), the database under ``database/``
(SQLite: a consistent copy made with SQLite's online backup API; PostgreSQL: a ``pg_dump`` custom-format dump) and
the data dir's files under ``data/`` (uploads, ``secret_key``): it holds secrets, so it is written owner-only.

A restore checks the whole archive against its manifest before it changes anything, replaces the database (SQLite:
an atomic file replace; PostgreSQL: one transaction), puts the data files back, then migrates to head, so an older
backup comes back on the current schema. The app and the voice sidecar must be stopped first.
"""

from quantum_voice.core.backup.archive import create_backup, data_files, restore_backup
from quantum_voice.core.backup.cli import main
from quantum_voice.core.backup.databases import BackupError, Database, configured_database, snapshot_sqlite

__all__ = ["BackupError", "Database", "configured_database", "create_backup", "data_files", "main", "restore_backup",
           "snapshot_sqlite"]
