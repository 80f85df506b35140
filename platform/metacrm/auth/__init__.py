"""Accounts, roles, permissions, data scope, API tokens."""
