"""The HTTP API: Flask app factory, blueprints, problem+json errors."""
