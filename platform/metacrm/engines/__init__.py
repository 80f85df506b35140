"""Engines served by definitions: tags, segments, pipelines, assignment, dedupe, benefits, scores, reports."""
