"""The workspace: the app database, the Parquet area and the blob area, found one way."""

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine

from tidetrace.exc import WorkspaceError
from tidetrace.settings import get_settings
from tidetrace.store.db import make_engine, migrate

MARKER = "tidetrace-workspace"


@dataclass
class Workspace:
    """A tidetrace workspace on disk.

    Attributes:
        home: the workspace directory.
        database_url: SQLAlchemy URL; SQLite inside ``home`` unless configured.
    """

    home: Path
    database_url: str
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def parquet_dir(self) -> Path:
        """Bulk trade records, as a partitioned Parquet dataset."""
        return self.home / "parquet"

    @property
    def blob_dir(self) -> Path:
        """Content-addressed files (evidence, uploads), encrypted where sensitive."""
        return self.home / "blobs"

    @property
    def tmp_dir(self) -> Path:
        """Scratch space on the same file system, for atomic renames."""
        return self.home / "tmp"

    @cached_property
    def engine(self) -> Engine:
        """The app database engine, migrated to the newest schema on first use."""
        engine = make_engine(self.database_url)
        migrate(engine)
        return engine

    @classmethod
    def resolve(cls, home: Path | str | None = None) -> "Workspace":
        """Where the workspace is: ``home``, else ``TIDETRACE_HOME``, else ./tidetrace-data."""
        settings = get_settings()
        path = Path(home) if home is not None else settings.home
        path = path.expanduser().resolve()
        url = settings.database_url or f"sqlite:///{path / 'tidetrace.db'}"
        return cls(home=path, database_url=url)

    @classmethod
    def init(cls, home: Path | str | None = None) -> "Workspace":
        """Create (or bring up to date) a workspace and its database."""
        ws = cls.resolve(home)
        if ws.home.exists() and not ws.home.is_dir():
            raise WorkspaceError(f"{ws.home} exists and is not a directory")
        for path in (ws.home, ws.parquet_dir, ws.blob_dir, ws.tmp_dir):
            path.mkdir(parents=True, exist_ok=True)
        (ws.home / MARKER).write_text("tidetrace workspace; see docs/ARCHITECTURE.md\n")
        ws.engine  # noqa: B018 - creating the engine applies the migrations
        return ws

    @classmethod
    def open(cls, home: Path | str | None = None) -> "Workspace":
        """Open an existing workspace; a clear error when there is none."""
        ws = cls.resolve(home)
        if not (ws.home / MARKER).is_file():
            raise WorkspaceError(
                f"no tidetrace workspace at {ws.home}: run 'tidetrace init' "
                "or set TIDETRACE_HOME / --home"
            )
        ws.engine  # noqa: B018
        return ws

    def close(self) -> None:
        """Release database connections."""
        if "engine" in self.__dict__:
            self.__dict__.pop("engine").dispose()
