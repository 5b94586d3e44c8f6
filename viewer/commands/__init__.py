"""Command groups of the ``khoso`` CLI, one module per subject."""
