"""Serving the built web app and the admin console."""
