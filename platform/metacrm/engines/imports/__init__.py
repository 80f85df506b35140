"""Spreadsheet imports: readers with hostile-file limits, column mapping and templates, resumable jobs."""

from . import jobs, tables  # noqa: F401  (registers the background job and the system tables)
