"""The command line: ``python -m quantum_voice.core.backup create [--output PATH]`` / ``restore PATH [--yes]``
(``make backup``, ``make restore FILE=…``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


from quantum_voice.core.config import get_settings


from quantum_voice.core.backup.archive import (BACKUPS_DIR, DATA_PREFIX, create_backup, restore_backup)
from quantum_voice.core.backup.databases import (BackupError, Database)


# ------------------------------------------------------------------------------------------- command line

def _describe(manifest: dict[str, Any]) -> str:
    data = [f for f in manifest["files"] if f["path"].startswith(DATA_PREFIX)]
    db = manifest["database"]
    return (f"backup of {manifest.get('created_at')} (app {manifest.get('app_version') or 'unknown'}): "
            f"{db['kind']} database at revision {db.get('alembic_revision') or 'none'}, {len(data)} data files")


def _ask(manifest: dict[str, Any], database: Database) -> bool:
    print(_describe(manifest))
    print(f"This REPLACES the {database.kind} database {database.label} and the data files in "
          f"{get_settings().data_dir}.\nStop the app and the voice sidecar first.")
    try:
        return input("Type 'restore' to go on: ").strip().lower() == "restore"
    except EOFError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m quantum_voice.core.backup",
                                     description="Back up or restore the database and the data dir's files.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="write a backup archive")
    create.add_argument("--output", type=Path, help=f"archive path (default: DATA_DIR/{BACKUPS_DIR}/"
                                                    "qv-backup-<UTC time>.tar.gz)")
    restore = commands.add_parser("restore", help="replace the database and data files with a backup's")
    restore.add_argument("archive", type=Path)
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)
    try:
        if args.command == "create":
            path = create_backup(args.output)
            print(f"backup written: {path} ({path.stat().st_size:,} bytes). It holds secrets: keep it private.")
        else:
            confirm = (lambda _m, _d: True) if args.yes else _confirm_interactively
            manifest = restore_backup(args.archive, confirm=confirm)
            print(f"restored the {_describe(manifest)}; the database is migrated to head. Start the app again.")
        return 0
    except BackupError as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{args.command}: interrupted", file=sys.stderr)
        return 1


def _confirm_interactively(manifest: dict[str, Any], database: Database) -> bool:
    if not sys.stdin.isatty():
        raise BackupError("restore replaces the database and data files: pass --yes (make restore ... YES=1) "
                          "to run without a prompt; nothing was changed")
    return _ask(manifest, database)

