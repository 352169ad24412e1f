"""Every setting tidetrace reads from the environment, in one place.

Each setting is read when asked for, so tests and the CLI can change the environment
between calls. Nothing else in tidetrace reads ``os.environ``.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SETTINGS_HELP", "Settings", "get_settings"]

# name -> one-line description, used by the docs test and `tidetrace --help`.
SETTINGS_HELP: dict[str, str] = {
    "TIDETRACE_HOME": "Workspace directory (default ./tidetrace-data).",
    "TIDETRACE_DATABASE_URL": "App database URL (default: SQLite in the workspace).",
    "TIDETRACE_SHARED_DATA": "Shared real data directory (default ../shared/data if present).",
    "TIDETRACE_LOG_LEVEL": "Log level for the tidetrace logger (default WARNING).",
    "TIDETRACE_COOKIE_SECURE": "Secure flag on session cookies (default false; set behind TLS).",
    "TIDETRACE_SESSION_HOURS": "Lifetime of a login session in hours (default 12).",
    "TIDETRACE_MAX_UPLOAD_MB": "Largest accepted upload on web forms, in MiB (default 20).",
    "TIDETRACE_USER": "Default user for vault commands (--user) on the command line.",
    "TIDETRACE_PASSWORD": "Vault password for non-interactive CLI use (default: TTY prompt).",
    "TIDETRACE_TSA_URL": "RFC 3161 timestamp authority URL for custody checkpoints (default none).",
    "TIDETRACE_TSA_CA_FILE": "PEM CA certificate(s) to verify timestamp tokens against.",
    "TIDETRACE_CAPTURE_ALLOW_HOSTS": (
        "Comma-separated hosts or IPs web URL captures may reach though not public (default none)."
    ),
}


def _env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip()


def _env_int(name: str, default: int) -> int:
    value = _env_str(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        return default


def _env_bool(name: str, default: bool) -> bool:
    value = _env_str(name)
    if value is None:
        return default
    return value.lower() in ("1", "true", "yes", "on")


def _default_shared_data() -> Path | None:
    here = Path(__file__).resolve().parent.parent
    for candidate in (Path.cwd() / ".." / "shared" / "data", here / ".." / "shared" / "data"):
        if candidate.is_dir():
            return candidate.resolve()
    return None


@dataclass(frozen=True)
class Settings:
    """A snapshot of the environment's settings."""

    home: Path
    database_url: str | None
    shared_data: Path | None
    log_level: str
    cookie_secure: bool
    session_hours: int
    max_upload_mb: int
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    tsa_url: str | None = None
    tsa_ca_file: Path | None = None
    capture_allow_hosts: tuple[str, ...] = ()


def get_settings() -> Settings:
    """Read the settings from the environment now."""
    shared = _env_str("TIDETRACE_SHARED_DATA")
    return Settings(
        home=Path(_env_str("TIDETRACE_HOME", "tidetrace-data") or "tidetrace-data"),
        database_url=_env_str("TIDETRACE_DATABASE_URL"),
        shared_data=Path(shared) if shared is not None else _default_shared_data(),
        log_level=(_env_str("TIDETRACE_LOG_LEVEL", "WARNING") or "WARNING").upper(),
        cookie_secure=_env_bool("TIDETRACE_COOKIE_SECURE", False),
        session_hours=_env_int("TIDETRACE_SESSION_HOURS", 12),
        max_upload_mb=_env_int("TIDETRACE_MAX_UPLOAD_MB", 20),
        user=_env_str("TIDETRACE_USER"),
        # Read raw: a password may start or end with spaces.
        password=os.environ.get("TIDETRACE_PASSWORD") or None,
        tsa_url=_env_str("TIDETRACE_TSA_URL"),
        tsa_ca_file=Path(tsa_ca) if (tsa_ca := _env_str("TIDETRACE_TSA_CA_FILE")) else None,
        capture_allow_hosts=tuple(
            h.strip()
            for h in (_env_str("TIDETRACE_CAPTURE_ALLOW_HOSTS") or "").split(",")
            if h.strip()
        ),
    )
