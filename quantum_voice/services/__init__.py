"""Domain logic per subsystem. Plain Python: no Reflex, no HTTP, importable and testable alone."""
