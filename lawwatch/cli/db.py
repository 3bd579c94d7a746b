"""``lawwatch db``: create or migrate the archive."""

from __future__ import annotations

import click

from lawwatch.cli._common import App, LawwatchGroup, pass_app


@click.group(cls=LawwatchGroup)
def db() -> None:
    """Create or migrate the archive.

    \b
    Example:
      lawwatch db upgrade
    """


@db.command("upgrade")
@pass_app
def db_upgrade(app: App) -> None:
    """Apply every pending migration to the archive (it is also done on first use).

    \b
    Example:
      LAWWATCH_DATABASE_URL=postgresql://localhost/lawwatch lawwatch db upgrade
    """
    from sqlalchemy.exc import SQLAlchemyError

    from lawwatch.errors import ArchiveError
    from lawwatch.pipeline.db import current_revision, describe_error, head_revision, open_archive, upgrade

    archive = open_archive(app.config.archive.url, migrate=False)
    try:
        before = current_revision(archive.engine)
        upgrade(archive.engine)
        after = current_revision(archive.engine)
    except SQLAlchemyError as exc:  # e.g. a PostgreSQL server that does not answer
        raise ArchiveError(f"cannot open the archive: {describe_error(exc)}") from None
    finally:
        archive.dispose()
    click.echo(f"archive at revision {after} (was {before or 'empty'}; head {head_revision()})")
