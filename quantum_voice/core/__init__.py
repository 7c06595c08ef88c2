"""Infrastructure shared by every subsystem: settings, database, security, cache, pub/sub, queue."""
