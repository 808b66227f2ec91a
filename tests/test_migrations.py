"""Migrations are the only way the schema changes: a database built by them matches the models."""

import os
import tempfile
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.config import to_sync_url
from app.models import metadata
from tests.conftest import BACKEND, alembic_config, drop_postgres, fresh_postgres


def _empty_database() -> tuple[str, object]:
    if BACKEND == "postgres":
        name = f"convene_migrations_{os.getpid()}"
        return fresh_postgres(name), name
    folder = tempfile.mkdtemp()
    return f"sqlite:///{Path(folder) / 'empty.db'}", None


def test_upgrade_head_builds_exactly_the_models_schema_and_downgrades_cleanly() -> None:
    url, pg_name = _empty_database()
    try:
        command.upgrade(alembic_config(url), "head")
        engine = create_engine(to_sync_url(url))
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), metadata)
            tables = set(inspect(connection).get_table_names())
        assert diff == [], f"models and migrations disagree: {diff}"
        assert {t.name for t in metadata.sorted_tables} <= tables
        command.downgrade(alembic_config(url), "base")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        command.upgrade(alembic_config(url), "head")
        engine.dispose()
    finally:
        if pg_name:
            drop_postgres(str(pg_name))
