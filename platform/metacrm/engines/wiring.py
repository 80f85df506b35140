"""The composition root of the engines: which listeners and apply hooks the services carry.

Every process (web, CLI, worker) builds its services here, so each engine is wired once, the
same way everywhere. An engine module adds itself by contributing listeners, hooks or kinds below.
"""

from __future__ import annotations

from sqlalchemy import Engine

from ..auth.tables import metadata as auth_metadata
from ..config import Settings
from ..flows import boot as workflows
from ..store.definitions import ApplyHook
from ..store.records import Listener
from ..store.services import Services
from ..store.system import metadata as system_metadata

# dedupe, imports: data factory (dedupe kind, system tables, jobs); rule_members, segments, tags:
# tag/tag_group/segment kinds, tag link tables, the tag/segment listener and apply hook;
# assignment, tag_steps: workflow steps backed by engines (assign_owner, add_tag, remove_tag).
# limits: the limits ledger's tables and its reservation sweeper; pipelines: the pipeline kind,
# its stage guard (before_write) and stage history (listener); routing: the assignment kind, its
# owner guard on create (before_write), its user check (apply hook) and load counters (listener);
# lead_pool: the lead_pool kind and its hold table; benefits: the benefit kind, its tables, its
# counter sync (apply hook) and reservation sweep; points, tiers: points lots, the tier kind, the
# order listener (paid orders earn, refunds claw back), the nightly tier pass and the expiry sweep;
# benefit_steps: the issue_coupon workflow step.
from . import (  # noqa: F401
    assignment,
    benefit_steps,
    benefits,
    conversion,
    dedupe,
    export_jobs,
    imports,
    lead_pool,
    limits,
    phone_regions,
    pipelines,
    plan_stats,
    points,
    reminders,
    reports,
    rollup_checks,
    routing,
    rule_members,
    search,
    segments,
    tag_steps,
    tags,
    tiers,
    views,
)

# auth sits beside store: its tables join the system tables here, so Services.init() creates them.
for _table in auth_metadata.sorted_tables:
    if _table.name not in system_metadata.tables:
        _table.to_metadata(system_metadata)


def engine_listeners(settings: Settings | None = None) -> list[Listener]:
    """Called inside every record write's transaction, in this order."""
    tz = settings.timezone if settings is not None else "UTC"
    return [rule_members.make_listener(tz), dedupe.on_create, pipelines.on_record_events, routing.on_record_events,
            plan_stats.on_record_events, tiers.on_record_events, workflows.on_record_events,
            reports.on_record_events]


def engine_hooks(settings: Settings | None = None) -> list[ApplyHook]:
    """Called inside every metadata apply's transaction, in this order."""
    tz = settings.timezone if settings is not None else "UTC"
    return [rule_members.make_hook(tz), routing.check_people, search.on_definitions_applied,
            benefits.on_definitions_applied]


def build_services(settings: Settings, engine: Engine | None = None) -> Services:
    services = Services.from_settings(settings, listeners=engine_listeners(settings),
                                      hooks=engine_hooks(settings), engine=engine)
    services.records.before_write += [pipelines.make_guard(settings.timezone), routing.make_guard(settings.timezone),
                                      phone_regions.fill_region]
    return workflows.install(services)
