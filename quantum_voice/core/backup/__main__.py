"""``python -m quantum_voice.core.backup``: see ``cli.py``."""

from quantum_voice.core.backup.cli import main

raise SystemExit(main())
