"""The migrations build the schema the models describe, on SQLite and on PostgreSQL."""

import pytest
import sqlalchemy as sa

from repository import migrate


def test_models_and_migrations_agree(any_database_url):
    migrate.check(any_database_url)  # raises SchemaDrift on any difference


def test_upgrade_again_changes_nothing(any_database_url):
    migrate.upgrade(any_database_url)
    migrate.check(any_database_url)


def test_drift_is_reported(tmp_path):
    url = f"sqlite:///{tmp_path / 'drifted.sqlite3'}"
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    with engine.begin() as connection:  # a change made outside the migrations
        connection.execute(sa.text("DROP INDEX ix_login_failures_key_at"))
    engine.dispose()
    with pytest.raises(migrate.SchemaDrift):
        migrate.check(url)
