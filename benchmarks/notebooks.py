"""How long each teaching notebook takes to run top to bottom (nbclient, a fresh kernel).

tests/test_notebooks.py checks that they run and draw their figures; their speed is
measured here. Goal: under 60 s each on 2 cores.

    python benchmarks/notebooks.py
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def main() -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    print(f"{os.cpu_count()} cores, load {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        seconds = time.perf_counter() - start
        print(f"{path.stem}: {seconds:.0f} s (goal < 60 s; load "
              f"{', '.join(f'{x:.1f}' for x in os.getloadavg())})", flush=True)


if __name__ == "__main__":
    main()
