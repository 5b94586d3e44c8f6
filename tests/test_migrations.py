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


def test_page_uids_are_filled_for_existing_pages(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    migrate.upgrade(url, "0001")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO collections (id, slug, title, description, description_en, position,"
            " created_at, updated_at) VALUES (1, 'c', 'C', '', '', 0, '2026-01-01', '2026-01-01')"))
        connection.execute(sa.text(
            "INSERT INTO items (id, handle, collection_id, status, created_at, updated_at,"
            " withdrawal_reason) VALUES (1, 'h', 1, 'draft', '2026-01-01', '2026-01-01', '')"))
        for sequence in (1, 2):
            connection.execute(sa.text(
                "INSERT INTO pages (item_id, sequence, label, width, height, text)"
                " VALUES (1, :sequence, '', 0, 0, '')"), {"sequence": sequence})
    migrate.upgrade(url)
    with engine.connect() as connection:
        uids = connection.execute(sa.text("SELECT uid FROM pages")).scalars().all()
    engine.dispose()
    assert len(set(uids)) == 2 and all(len(uid) == 36 for uid in uids)
