"""Every string a user can see has a Vietnamese translation, and the catalogue is current."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "viewer/translations/vi/LC_MESSAGES/messages.po"


def load(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def msgid(message) -> str:
    """The singular msgid (plural messages have a tuple of singular and plural)."""
    return message.id[0] if isinstance(message.id, tuple) else message.id


def test_every_message_is_translated_to_vietnamese():
    catalogue = load(CATALOGUE)
    untranslated = [msgid(m) for m in catalogue if m.id and (not m.string or m.fuzzy
                    or (isinstance(m.string, tuple) and not all(m.string)))]
    assert untranslated == []


def test_catalogue_holds_every_string_in_the_code(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "N_", "--no-location", "-o", str(template),
         "repository", "ingest", "viewer", "templates"],
        cwd=ROOT, check=True)
    in_code = {msgid(message) for message in load(template) if message.id}
    in_catalogue = {msgid(message) for message in load(CATALOGUE) if message.id}
    missing = in_code - in_catalogue
    assert not missing, f"run `make messages` and translate: {sorted(missing)[:10]}"
