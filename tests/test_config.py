"""Configuration order and the secret key kept in the instance folder."""

import os
import stat

from viewer import create_app
from viewer.config import read_or_create_secret


def test_secret_key_is_made_once_and_private(tmp_path):
    path = tmp_path / "secret_key"
    first = read_or_create_secret(path)
    assert len(first) == 64 and read_or_create_secret(path) == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_environment_overrides_instance_file(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "khoso.cfg").write_text(
        'LIBRARY_NAME = "Thư viện A"\nSITE_NAME = "Kho A"\n', encoding="utf-8")
    monkeypatch.setenv("KHOSO_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("KHOSO_LIBRARY_NAME", "Thư viện B")
    app = create_app()
    assert app.config["LIBRARY_NAME"] == "Thư viện B"
    assert app.config["SITE_NAME"] == "Kho A"
    assert app.config["DATABASE_URL"] == f"sqlite:///{instance / 'khoso.sqlite3'}"
    assert app.config["STORAGE_URL"] == f"file://{instance / 'objects'}"
    assert (instance / "secret_key").exists()
    app.extensions["khoso"].db.dispose()
