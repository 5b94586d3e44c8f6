"""The ``khoso`` command: a Flask CLI group with the portal's administration commands."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from viewer import create_app


def _commands() -> list[click.Command]:
    from ingest.cli import commands as ingest_commands
    from viewer.commands import fixity, stats
    from viewer.commands.collections import collection_cli
    from viewer.commands.database import db_cli
    from viewer.commands.demo import demo_cli, setup_command
    from viewer.commands.exports import commands as export_commands
    from viewer.commands.harvest import commands as harvest_commands
    from viewer.commands.rights import rights_cli
    from viewer.commands.search import search_cli
    from viewer.commands.serve import serve_command
    from viewer.commands.users import users_cli
    return [collection_cli, db_cli, demo_cli, rights_cli, search_cli, setup_command,
            serve_command, users_cli, *fixity.commands, *stats.commands, *harvest_commands,
            *export_commands, *ingest_commands]


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False,
             load_dotenv=False, set_debug_flag=False)
def main() -> None:
    """Khoso: the digital repository of a public library.

    Configuration comes from the instance folder (KHOSO_INSTANCE_PATH, khoso.cfg) and the
    KHOSO_* environment (KHOSO_DATABASE_URL, KHOSO_STORAGE_URL, ...); see README.md.
    """


for _command in _commands():
    main.add_command(_command)
