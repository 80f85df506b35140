"""WSGI entry point for production servers: `gunicorn 'metacrm.api.wsgi:app'`."""

from ..flows.executor import start_background
from .app import create_app

app = create_app()
start_background(app.extensions["metacrm"])  # without Redis: workflow steps and sweeps run in each process
