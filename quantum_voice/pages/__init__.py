"""Page functions: each returns components and leaves data and actions to its state."""
