"""Progress bars for streaming commands (rich), quiet when stderr is not a terminal."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


class _CountingReader:
    """Wraps a binary file so the progress bar can follow the bytes read."""

    def __init__(self, fh: IO[bytes], progress: Progress, task: int) -> None:
        self._fh = fh
        self._progress = progress
        self._task = task

    def __iter__(self) -> Iterator[bytes]:
        for line in self._fh:
            self._progress.advance(self._task, len(line))  # type: ignore[arg-type]
            yield line


@contextmanager
def file_progress(fh: IO[bytes], total: int, label: str) -> Iterator[_CountingReader]:
    """Iterate ``fh`` by line while showing bytes read out of ``total``."""
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield _CountingReader(fh, progress, task)
