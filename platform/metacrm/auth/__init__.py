"""Accounts and access control: passwords, API tokens, roles, teams, permissions and data scope."""
