"""Everything under `/api/v1` this package serves, registered on an app in one call."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

from . import (
    admin_users,
    assignment,
    audit,
    auth_routes,
    benefits,
    dedupe,
    dedupe_pick,
    definition_delete,
    definitions,
    docs,
    export_jobs,
    exports,
    forms,
    imports,
    links,
    objects,
    openapi,
    pipelines,
    pools,
    records,
    regions,
    reports,
    segments,
    suppressions,
    users,
    views,
    workflow_builder,
    workflow_runs,
    workspace,
)
from . import workflows as workflow_routes
from .context import API_PREFIX, init_auth


class RecordIdConverter(IntegerConverter):
    """A positive 64-bit id: larger numbers are a 404, not a database overflow."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: ANN001
        super().__init__(map, min=1, max=2**63 - 1)


def register_api(app: Flask) -> None:
    app.url_map.converters["rid"] = RecordIdConverter
    init_auth(app)
    for module in (auth_routes, objects, records, segments, forms, definitions, users, audit, openapi, docs,
                   workflow_routes):
        app.register_blueprint(module.bp, url_prefix=API_PREFIX)
    for module in (imports, exports, dedupe, dedupe_pick):  # the data factory
        app.register_blueprint(module.bp, url_prefix=API_PREFIX)
    for module in (pipelines, assignment, pools):  # sales: pipelines, kanban, funnel, forecast, assignment, pool
        app.register_blueprint(module.bp, url_prefix=API_PREFIX)
    app.register_blueprint(workspace.bp, url_prefix=API_PREFIX)  # titles, lookup, search, home, tags, trash
    app.register_blueprint(links.bp, url_prefix=API_PREFIX)  # many-to-many links from either side
    app.register_blueprint(views.bp, url_prefix=API_PREFIX)  # saved list views
    app.register_blueprint(export_jobs.bp, url_prefix=API_PREFIX)  # long exports as background jobs
    app.register_blueprint(workflow_builder.bp, url_prefix=API_PREFIX)  # drafts, validation, publishing
    app.register_blueprint(workflow_runs.bp, url_prefix=API_PREFIX)  # re-run, test a node, bulk run control
    app.register_blueprint(suppressions.bp, url_prefix=API_PREFIX)  # suppression list, signed bounce reports
    app.register_blueprint(admin_users.bp, url_prefix=API_PREFIX)  # users, roles, teams for the web app
    app.register_blueprint(definition_delete.bp, url_prefix=API_PREFIX)  # DELETE /definitions/<kind>/<name>
    app.register_blueprint(reports.bp, url_prefix=API_PREFIX)  # reports, drill-down, export, dashboards
    app.register_blueprint(benefits.bp, url_prefix=API_PREFIX)  # member benefits and coupons on the ledger
    app.register_blueprint(regions.bp, url_prefix=API_PREFIX)  # names of region codes in the caller's language
