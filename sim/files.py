"""Writing files so that a reader, or a parallel job, never sees half of one.

Every file the project writes for others to read (a job's results, cache entries, the
oracle's matrices, downloaded data) goes through :func:`atomic_write`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp_path)``, then move the file into place with :func:`os.replace`.

    The temporary file has a unique name in the target's directory, so parallel jobs
    writing the same target never share one; a reader sees the old file or the new one,
    never a partial one. On an error the temporary file is removed. The file gets the
    usual permissions (``0666`` less the umask): the temporary file is created with that
    mode by :func:`os.open`, so the process's umask is never changed (reading it means
    setting it, for a moment, for every thread).

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "sub" / "note.txt"
    >>> atomic_write(target, lambda p: p.write_text("done")).read_text()
    'done'
    >>> sorted(p.name for p in target.parent.iterdir())
    ['note.txt']
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _create(path: Path) -> Path:
    """Create an empty, uniquely named temporary file beside ``path``, mode 0666 less umask."""
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:  # 2**-64 per name: a new name
            continue
        return tmp
