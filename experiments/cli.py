"""The ``retrain-sim`` command: ``--help`` answered at once, everything else by the Hydra app.

``retrain-sim --help`` (or ``-h``) prints :func:`usage`, built from ``conf/`` (the
default sweep, the config groups and their options) without importing Hydra, pandas,
scikit-learn or SciPy; any other command line goes to :func:`experiments.run.main`.
Hydra's own help stays available as ``--hydra-help``.
"""

from __future__ import annotations

import sys

from experiments.usage import EXIT_CODES, quiet_schema_warning, usage

__all__ = ["EXIT_CODES", "main", "quiet_schema_warning", "usage"]

def main(argv: list[str] | None = None) -> None:
    """Run ``retrain-sim``: print :func:`usage` for ``--help``, else run the Hydra app."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--help" in argv or "-h" in argv:
        print(usage(), end="")
        return
    from experiments.run import main as run

    run(argv)


if __name__ == "__main__":
    main()
