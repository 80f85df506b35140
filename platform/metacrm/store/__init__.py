"""Storage: the database, system tables, object tables and their migrations, the record service."""
