"""The data factory's dedupe engine: the `dedupe` kind, matching, the review queue, merge and undo."""

from . import definition, tables  # noqa: F401  (registers the kind and the system tables)
from .listener import dedupe_handled, on_create

__all__ = ["dedupe_handled", "on_create"]
