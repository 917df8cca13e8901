"""Alembic migrations of the review store (applied by ``Store.migrate``)."""
