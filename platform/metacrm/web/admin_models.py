"""ORM classes over the system tables, for the admin console only.

The rest of MetaCRM uses SQLAlchemy Core; Flask-Admin's model views need mapped classes, so the
console maps plain classes onto the same Table objects (once per process).
"""

from __future__ import annotations

from sqlalchemy.orm import registry

from ..auth import tables as auth_tables
from ..store import system

mapper_registry = registry()


class User:
    pass


class Team:
    pass


class TeamMember:
    pass


class Role:
    pass


class UserRole:
    pass


class Permission:
    pass


class ApiToken:
    pass


class Definition:
    pass


class DefinitionVersion:
    pass


class RecordEvent:
    pass


for _cls, _table in ((User, system.users), (Team, auth_tables.teams), (TeamMember, auth_tables.team_members),
                     (Role, auth_tables.roles), (UserRole, auth_tables.user_roles),
                     (Permission, auth_tables.permissions), (ApiToken, auth_tables.api_tokens),
                     (Definition, system.definitions), (DefinitionVersion, system.definition_versions),
                     (RecordEvent, system.record_events)):
    mapper_registry.map_imperatively(_cls, _table)
