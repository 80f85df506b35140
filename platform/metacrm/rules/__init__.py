"""The rule language: one JSON AST, a SQL compiler and an in-memory evaluator (issue 3)."""
