"""Opening the archive: the cheap "already at head?" check, and database failures as clean ``ArchiveError``s."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from lawwatch.errors import ArchiveError
from lawwatch.pipeline import db
from lawwatch.pipeline.db import MIGRATIONS_DIR, current_revision, head_revision, open_archive

ROOT = Path(__file__).resolve().parent.parent


def _alembic_head(migrations: Path) -> str | None:
    return ScriptDirectory(str(migrations)).get_current_head()


def test_cheap_head_is_alembics_head() -> None:
    assert head_revision() == _alembic_head(MIGRATIONS_DIR)


def _copy_migrations(tmp_path: Path) -> Path:
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _add_version(migrations: Path, name: str, header: str) -> None:
    body = (
        '"""A test revision."""\n\nfrom __future__ import annotations\n\n'
        + header
        + (
            "\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade() -> None:\n    pass\n\n\n"
            "def downgrade() -> None:\n    pass\n"
        )
    )
    (migrations / "versions" / name).write_text(body, encoding="utf-8")


def test_cheap_head_follows_new_version_files(tmp_path: Path) -> None:
    migrations = _copy_migrations(tmp_path)
    before = head_revision(migrations)
    _add_version(migrations, "9001_more.py", f'revision = "9001"\ndown_revision = "{before}"\n')
    _add_version(
        migrations,
        "9002_typed.py",
        "revision: str = '9002'  # typed, as newer Alembic templates write it\ndown_revision: str | None = '9001'\n",
    )
    assert head_revision(migrations) == "9002" == _alembic_head(migrations)


def test_cheap_head_handles_merges_and_defers_to_alembic_when_unsure(tmp_path: Path) -> None:
    migrations = _copy_migrations(tmp_path)
    before = head_revision(migrations)
    _add_version(migrations, "9001_a.py", f'revision = "9001"\ndown_revision = "{before}"\n')
    _add_version(migrations, "9002_b.py", f'revision = "9002"\ndown_revision = "{before}"\n')
    _add_version(migrations, "9003_merge.py", 'revision = "9003"\ndown_revision = ("9001", "9002")\n')
    assert head_revision(migrations) == "9003" == _alembic_head(migrations)
    # a revision id that is not a plain literal: the scripts are read by Alembic instead
    _add_version(migrations, "9004_computed.py", 'revision = "90" + "04"\ndown_revision = "9003"\n')
    assert head_revision(migrations) == "9004" == _alembic_head(migrations)


def test_opening_an_archive_at_head_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    open_archive(url).dispose()  # creates it (Alembic runs here)
    code = (
        "import sys\nfrom lawwatch.pipeline.db import open_archive\n"
        f"open_archive({url!r}).dispose()\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_empty_database_has_no_revision_and_is_migrated_on_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = db.make_engine(url)
    assert current_revision(engine) is None
    engine.dispose()
    archive = open_archive(url)
    assert current_revision(archive.engine) == head_revision()
    archive.dispose()


def test_archive_at_an_unknown_revision_is_a_clean_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    archive = open_archive(url)
    with archive.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'from-the-future'"))
    archive.dispose()
    with pytest.raises(ArchiveError, match="cannot migrate the archive: .*from-the-future"):
        open_archive(url)


def _tiny_pool(path: Path) -> sa.Engine:
    """An engine with a single pooled connection that waits 50 ms for it."""
    return sa.create_engine(f"sqlite:///{path}", pool_size=1, max_overflow=0, pool_timeout=0.05)


def test_pool_timeout_on_open_is_an_archive_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.db"
    open_archive(f"sqlite:///{path}").dispose()
    engine = _tiny_pool(path)
    monkeypatch.setattr(db, "make_engine", lambda *args, **kwargs: engine)
    with engine.connect():  # the only connection is busy
        with pytest.raises(ArchiveError, match=r"cannot open the archive: TimeoutError: QueuePool limit of size 1"):
            open_archive(f"sqlite:///{path}")


def test_pool_timeout_in_a_session_is_an_archive_error(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    open_archive(f"sqlite:///{path}").dispose()
    engine = _tiny_pool(path)
    archive = db.Archive(engine, sa.orm.sessionmaker(engine))
    with archive.session() as first:
        first.execute(sa.text("SELECT 1"))  # holds the only connection until the block ends
        with pytest.raises(ArchiveError, match="the archive is busy: .*QueuePool limit of size 1"):
            with archive.session() as second:
                second.execute(sa.text("SELECT 1"))
    engine.dispose()
