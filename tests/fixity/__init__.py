"""The fixity audit on every storage backend."""
