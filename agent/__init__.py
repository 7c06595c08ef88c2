"""The voice sidecar: a separate process (``python -m agent``) that runs calls against the app's database."""
