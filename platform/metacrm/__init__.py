"""MetaCRM: a metadata-driven, low-code CRM platform."""

__version__ = "0.1.0"
