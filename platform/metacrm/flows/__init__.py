"""The workflow engine: triggers, persisted runs, steps and their executors."""
