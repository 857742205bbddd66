"""Writing files so that a reader, or a parallel job, never sees half of one.

Every file the project writes for others to read (a job's results, cache entries, the
oracle's matrices, downloaded data) goes through :func:`atomic_write`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp_path)``, then move the file into place with :func:`os.replace`.

    The temporary file has a unique name in the target's directory, so parallel jobs
    writing the same target never share one; a reader sees the old file or the new one,
    never a partial one. On an error the temporary file is removed. The file gets the
    usual permissions (``0666`` less the umask).

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
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; use the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
