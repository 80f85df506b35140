"""Definitions: kinds and their meta-schemas, field types, object models, packs, plans.

Pure: nothing here touches the database or the network.
"""
