"""structlog set-up for the ``tidetrace`` logger only (never the root logger)."""

import logging
import sys
from typing import Any

import structlog

from tidetrace.settings import get_settings

_configured = False


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is now, not the one seen at set-up.

    Test runners and embedding programs swap stderr; a handler bound to the first one
    would write to a closed stream.
    """

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure(level: str | None = None) -> None:
    """Send tidetrace's log lines to stderr as key=value pairs."""
    global _configured
    logger = logging.getLogger("tidetrace")
    logger.setLevel(level or get_settings().log_level)
    if not _configured:
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
        structlog.configure(
            processors=[
                structlog.stdlib.add_log_level,
                structlog.processors.TimeStamper(fmt="iso"),
                structlog.processors.KeyValueRenderer(key_order=["event", "level"]),
            ],
            logger_factory=structlog.stdlib.LoggerFactory(),
            wrapper_class=structlog.stdlib.BoundLogger,
        )
        _configured = True


def get_logger(name: str) -> Any:
    """A structlog logger under the ``tidetrace`` namespace."""
    return structlog.get_logger(name if name.startswith("tidetrace") else f"tidetrace.{name}")
