"""``khoso fixity``: re-read the stored objects and compare their SHA-256 with the records."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

import storage
from repository.fixity import FixityProblem, FixityRun, fixity_status, run_fixity
from viewer.extensions import parts


@click.command("fixity")
@click.option("--limit", type=click.IntRange(min=1),
              help="Check at most N files now; the next run goes on from there.")
@click.option("--restart", is_flag=True,
              help="Start a new audit instead of resuming an unfinished one.")
@with_appcontext
def fixity_command(limit: int | None, restart: bool) -> None:
    """Re-read every stored object, hash it and compare it with its recorded SHA-256; report
    missing, changed and unreadable objects and objects no file refers to. Exits with 1 when
    problems are open (printed), 0 when everything matched."""
    khoso = parts()
    with khoso.db.session() as session:
        try:
            run = run_fixity(session, khoso.store, limit=limit, resume=not restart)
        except storage.StorageUnavailable as exc:
            raise click.ClickException(
                f"the object store is unavailable ({exc}); the next run resumes") from exc
        status = fixity_status(session, limit=None)
        click.echo(_summary(run))
        for problem in status.problems:
            click.echo(_problem_line(problem))
    if status.open_count:
        click.echo(f"{status.open_count} open problem(s)", err=True)
        raise SystemExit(1)


def _summary(run: FixityRun) -> str:
    state = ("finished" if run.finished_at else
             f"stopped after file id {run.cursor}; the next run goes on from there")
    return (f"fixity run {run.id}: {run.files_checked} files, {run.bytes_checked} bytes read, "
            f"{run.objects_listed} objects listed, {run.problems} problems seen; {state}")


def _problem_line(problem: FixityProblem) -> str:
    line = f"{problem.kind.value:<12} {problem.storage_key}"
    if problem.expected_sha256 or problem.found_sha256:
        line += f"  expected {problem.expected_sha256 or '-'} found {problem.found_sha256 or '-'}"
    if problem.detail:
        line += f"  ({problem.detail})"
    return line


commands = [fixity_command]
