"""The sweeper and launcher of ``retrain-sim``: every job checked before any starts, in parallel.

Hydra's basic sweeper composes the config of every job of a sweep, one after another in
the launching process, before it launches any (to catch composition errors early), and
the joblib launcher then composes each again in its worker: on ``threshold_sweep`` (98
jobs) that serial pass was ~0.15 s per job, so two workers were only 1.24x faster than
one. And a bad parameter value was only found by the jobs themselves, after launch.

- :class:`CheckedSweeper` (``conf/hydra/sweeper/basic.yaml``, which takes the place of
  Hydra's basic option: the default) expands the sweep like the basic sweeper, then,
  before it creates the sweep directory, composes and checks one job per
  *configuration* (the jobs that differ only by ``seed`` share one) and every job's
  seed: each component is instantiated and checked by the run's own check,
  :func:`sim.preflight.check_run`, which :meth:`sim.Replay.reset` calls too
  (:func:`check_components`). Any bad value stops the sweep with
  :class:`~experiments.errors.InvalidSweep` (``retrain-sim`` exits 2; no job runs, no
  directory is left), with the messages a failed job records
  (:func:`experiments.errors.describe_job_error`).
- :class:`LocalLauncher` (``conf/hydra/launcher/local.yaml``, the default) is the joblib
  launcher whose workers also run those checks: the checks and the jobs' compositions
  run in parallel in the same worker processes, which import the libraries once. It
  hands the workers batches of jobs of one configuration (:func:`run_batch`): a batch
  composes its config once and gives each job a copy with the job's ``seed`` (the
  config Hydra would compose for that job, tested), instead of a ~0.25 s composition
  and a pickled copy of Hydra's state per job.

What a worker computes (the ``JobReturn`` of each job of a batch, ~30 KB with its config,
or a configuration's check messages) goes back to the launching process through a file
(:func:`in_file`, :func:`read_outcome`), never through loky's result pipe, which then
carries only ``None``: a message of ~115 bytes, which ``multiprocessing`` writes to the
pipe in one ``write`` of less than ``PIPE_BUF`` (4096 bytes on Linux), so it is written
whole or not at all. A worker that dies while it sends a large message (the OOM killer, a
segfault, ``kill -9`` between the message's header and its payload) leaves half of it in
the pipe and loky's manager thread reads forever, never seeing the dead worker: the sweep
hung. Now loky sees the dead worker, the launcher raises, and ``retrain-sim`` says the
sweep stopped and how to finish it (``resume=true``).
"""

from __future__ import annotations

import copy
import logging
import math
import os
import pickle
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, configure_log, filter_overrides, run_job, setup_globals
from hydra.types import HydraContext, TaskFunction
from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher
from joblib.externals.loky.backend.reduction import dumps
from omegaconf import DictConfig, OmegaConf, open_dict

from experiments import errors, store
from experiments.errors import InvalidSweep
from experiments.hydra_internals import BasicSweeper, get_overrides_dirname, joblib_arguments
from experiments.usage import quiet_schema_warning

__all__ = ["CheckedSweeper", "LocalLauncher", "batches", "check_components", "check_config",
           "WorkerTraceback", "check_configuration", "configurations", "end_with", "in_file",
           "job_config", "read_outcome", "run_batch"]

log = logging.getLogger(__name__)


def _key(override: str) -> str:
    return override.partition("=")[0].lstrip("+~")


def configurations(jobs: Sequence[Sequence[str]]) -> dict[tuple[str, ...], list[int]]:
    """Group jobs by their overrides other than ``seed``: ``{overrides: [job index, ...]}``.

    Examples
    --------
    >>> configurations([["trigger=never", "seed=0"], ["trigger=never", "seed=1"],
    ...                 ["trigger=ddm", "seed=0"]])
    {('trigger=never',): [0, 1], ('trigger=ddm',): [2]}
    """
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, overrides in enumerate(jobs):
        groups.setdefault(tuple(o for o in overrides if _key(o) != "seed"), []).append(i)
    return groups


def check_components(components: dict[str, Any], settings: dict[str, Any] | None = None) -> None:
    """Check a job's values with :func:`sim.preflight.check_run`, as its run will, or raise.

    ``components`` is :func:`experiments.run.build`'s ``{group: object}``; ``settings``
    the job's resolved top-level values (``cache``, ``oracle``). ``seed`` is checked per
    job (:func:`check_configuration`). Raises the error the job's run would raise.
    """
    from sim.preflight import check_run

    settings = settings or {}
    oracle = settings.get("oracle") or {}
    protocol = components.get("protocol")
    check_run(components["stream"], components["model"], components["trigger"],
              gate=components.get("gate"), cost=components.get("cost"), protocol=protocol,
              learning=components.get("learning"), cache=settings.get("cache"),
              every=oracle.get("every") if oracle.get("enabled") else None)


def check_config(cfg: DictConfig) -> str | None:
    """Return why a composed job config cannot run (the job's error message), or None.

    ``cfg`` is a sweep config as Hydra composes it for a job (with its ``hydra`` node).
    """
    from experiments.components import build, check_settings
    from sim import threads

    with open_dict(cfg):
        cfg.hydra.job.num = 0  # resolvable like a job's, e.g. ${hydra:job.num}
    HydraConfig.instance().set_config(cfg)
    job = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
    resolved = None
    try:
        resolved = OmegaConf.to_container(job, resolve=True)
        threads.resolve(resolved.get("threads"))
        check_settings(resolved)
        check_components(build(job), resolved)
    except Exception as ex:
        return errors.describe_job_error(ex, resolved)
    return None


def _check_seed(override: str | None) -> str | None:
    """Return the job's error message for a bad ``seed=...`` override, or None."""
    from sim.checks import Interval, check

    if override is None:
        return None
    value = OverridesParser.create().parse_override(override).value()
    try:
        check("the run", "seed", value, Interval("int", 0))
    except ValueError as ex:
        return errors.describe_job_error(ex, {"seed": value})
    return None


WATCH = "retrain-sim-launcher-watch"
"""Name of the thread with which a worker process ends when its launcher has ended."""


def end_with(launcher: int | None) -> None:
    """Make this worker process exit as soon as the process ``launcher`` has ended.

    Started once per process (a daemon thread polling every 0.2 s): when the launching
    ``retrain-sim`` is killed (SIGKILL, SIGTERM), its joblib workers would otherwise run
    their batches to the end, or idle, for minutes (~230 MB each). A worker whose launcher
    is gone is re-parented (to init or a subreaper), which the thread sees; a launcher
    that is not the worker's parent is polled with signal 0. Nothing to do in the
    launching process itself (``launcher`` None or this process).

    Examples
    --------
    >>> end_with(os.getpid())  # the launching process itself: nothing to watch
    >>> any(t.name == WATCH for t in threading.enumerate())
    False
    """
    if launcher is None or launcher == os.getpid() or any(
            t.name == WATCH for t in threading.enumerate()):
        return
    parent = os.getppid()

    def alive() -> bool:
        try:
            os.kill(launcher, 0)
        except (ProcessLookupError, PermissionError):  # gone, or its number reused
            return False
        return os.getppid() == parent

    def watch() -> None:
        while alive():
            time.sleep(0.2)
        os._exit(1)  # the job in progress is left without summary.json: resume reruns it

    threading.Thread(target=watch, name=WATCH, daemon=True).start()


def check_configuration(overrides: Sequence[str], seeds: Sequence[str | None],
                        hydra_context: HydraContext, config: DictConfig,
                        singleton_state: dict | None = None,
                        launcher: int | None = None) -> list[str | None]:
    """Compose and check one configuration, then each of its jobs' ``seed=`` overrides.

    Returns one message (or None) per job: the configuration's problem, else its seed's.
    Runs in a worker process of :class:`LocalLauncher` (which passes its process id as
    ``launcher``: see :func:`end_with`), or in the launching process.
    """
    end_with(launcher)
    quiet_schema_warning()  # in this worker, for its jobs too
    if singleton_state is not None:
        setup_globals()
        Singleton.set_state(singleton_state)
    problem = check_config(hydra_context.config_loader.load_sweep_config(config, list(overrides)))
    return [problem or _check_seed(seed) for seed in seeds]


def _message(problems: dict[str, list[int]], jobs: list[Sequence[str]]) -> str:
    n_bad = len({i for members in problems.values() for i in members})
    lines = [f"{n_bad} of the {len(jobs)} jobs of this sweep have a bad value; no job was "
             "launched:"]
    for text, members in problems.items():
        more = f" and {len(members) - 1} more" if len(members) > 1 else ""
        lines.append(f"- {text} (job: {' '.join(jobs[members[0]])}{more})")
    return "\n".join(lines)


def batches(jobs: Sequence[Sequence[str]], n_workers: int) -> list[list[int]]:
    """Split the jobs into batches of one configuration.

    Jobs differing only by a plain ``seed=`` override share a batch (see
    :func:`configurations`). With several workers, a configuration with more than a
    quarter of a worker's share of the jobs is cut into batches of nearly equal size, so
    that the workers finish together.

    Examples
    --------
    >>> jobs = [[f"trigger.drop={d}", f"seed={s}"] for d in (1, 2) for s in range(6)]
    >>> [len(b) for b in batches(jobs, n_workers=2)]  # 12 jobs: batches of 2 at most
    [2, 2, 2, 2, 2, 2]
    >>> [len(b) for b in batches(jobs, n_workers=1)]
    [6, 6]
    >>> batches([["trigger=never", "seed=0"], ["trigger=ddm", "seed=0"]], n_workers=1)
    [[0], [1]]
    """
    size = math.ceil(len(jobs) / (4 * n_workers)) if n_workers > 1 else max(1, len(jobs))
    out = []
    for members in configurations(jobs).values():
        plain = [i for i in members if _seed(jobs[i]) is not None]
        out.extend([i] for i in members if i not in plain)  # no plain seed=: alone
        if plain:
            parts = math.ceil(len(plain) / size)
            bounds = [round(k * len(plain) / parts) for k in range(parts + 1)]
            out.extend(plain[a:b] for a, b in zip(bounds, bounds[1:], strict=False))
    return out


def _seed(overrides: Sequence[str]) -> str | None:
    """Return the job's ``seed=...`` override if it is a plain assignment, else None."""
    found = [o for o in overrides if _key(o) == "seed"]
    if len(found) != 1 or not found[0].startswith("seed="):
        return None
    return found[0]


def job_config(base: DictConfig, overrides: Sequence[str]) -> DictConfig:
    """Return the config Hydra composes for a job, from ``base``: a job of its configuration.

    ``base`` and the job differ only by their ``seed=`` override (see :func:`batches`):
    the copy gets the job's seed, its task overrides and its override_dirname, as
    Hydra's config loader sets them. ``base`` is not changed.
    """
    parsed = OverridesParser.create().parse_overrides(list(overrides))
    cfg = copy.deepcopy(base)
    task = [o for o in parsed if not o.is_hydra_override()]
    seed = next(o for o in task if o.key_or_group == "seed")
    OmegaConf.update(cfg, "seed", seed.value(), merge=True)
    with open_dict(cfg.hydra):
        cfg.hydra.overrides.task = [o.input_line for o in task]
        dirname = cfg.hydra.job.config.override_dirname
        cfg.hydra.job.override_dirname = get_overrides_dirname(
            overrides=task, kv_sep=dirname.kv_sep, item_sep=dirname.item_sep,
            exclude_keys=dirname.exclude_keys)
    return cfg


def run_batch(indices: Sequence[int], jobs: Sequence[Sequence[str]],
              hydra_context: HydraContext, config: DictConfig, task_function: TaskFunction,
              singleton_state: dict, launcher: int | None = None) -> list[JobReturn]:
    """Run jobs of one configuration in this worker, composing their config once.

    Each job runs as Hydra's joblib launcher runs it (``hydra.job.num`` and ``id``, its
    own output directory, callbacks and logs), with the config :func:`job_config` gives.
    The worker exits if the process ``launcher`` ends (:func:`end_with`).
    """
    end_with(launcher)
    setup_globals()
    Singleton.set_state(singleton_state)
    loader = hydra_context.config_loader
    base = loader.load_sweep_config(config, list(jobs[0]))
    out = []
    for idx, overrides in zip(indices, jobs, strict=True):
        cfg = job_config(base, overrides) if len(jobs) > 1 else base
        with open_dict(cfg):
            cfg.hydra.job.id = f"{cfg.hydra.job.name}_{idx}"
            cfg.hydra.job.num = idx
        HydraConfig.instance().set_config(cfg)
        out.append(run_job(hydra_context=hydra_context, config=cfg,
                           task_function=task_function, job_dir_key="hydra.sweep.dir",
                           job_subdir_key="hydra.sweep.subdir"))
    return out


class WorkerTraceback(Exception):
    """The traceback of an error raised in a worker: the cause of its re-raise by the launcher."""


def in_file(path: str, function: Callable[..., Any], *args: Any) -> None:
    """Call ``function(*args)`` and write what it returns, or the error it raises, to ``path``.

    The value is pickled as loky pickles a worker's result (cloudpickle: a JobReturn's
    config holds classes of Hydra's plugins, which plain pickle refuses). Run in a worker
    process: it returns None, so what loky sends back through its result pipe is ~115
    bytes, written atomically (see the module's docstring); the launching process reads
    the value from the file with :func:`read_outcome`.

    Examples
    --------
    >>> path = os.path.join(tempfile.mkdtemp(), "0.pickle")
    >>> in_file(path, divmod, 7, 2) is None
    True
    >>> read_outcome(path)
    (3, 1)
    """
    try:
        outcome = ("returned", function(*args))
    except Exception as ex:  # raised again by the launching process, with this traceback
        outcome = ("raised", ex, traceback.format_exc())
    store.atomic_write(Path(path), lambda p: p.write_bytes(dumps(outcome)))


def read_outcome(path: str) -> Any:
    """Return the value :func:`in_file` wrote to ``path``, or raise the error it wrote.

    The error is raised from a :class:`WorkerTraceback` holding the worker's traceback.

    Examples
    --------
    >>> path = os.path.join(tempfile.mkdtemp(), "0.pickle")
    >>> in_file(path, int, "seven")
    >>> read_outcome(path)
    Traceback (most recent call last):
    ...
    ValueError: invalid literal for int() with base 10: 'seven'
    """
    outcome = pickle.loads(Path(path).read_bytes())
    if outcome[0] == "raised":
        raise outcome[1] from WorkerTraceback(outcome[2])
    return outcome[1]


class CheckedSweeper(BasicSweeper):
    """Hydra's basic sweeper that checks every job's values before the first launches.

    It replaces the basic sweeper's serial composition of every job (its
    ``validate_batch_is_legal``) by one composition and check per configuration,
    run by the launcher's workers when it is a :class:`LocalLauncher`.
    """

    def sweep(self, arguments: list[str]) -> Any:
        """Check every job of the sweep, claim its directory, then run it.

        Raises ``InvalidSweep`` for a bad value in any job, or when the sweep directory
        holds another sweep (:func:`experiments.store.claim_sweep`): nothing is run.
        """
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        parsed = parser.parse_overrides([*self._parse_config(), *arguments])
        jobs = [job for batch in self.split_arguments(parsed, None) for job in batch]
        self.check(jobs)
        taken = store.claim_sweep(Path(str(self.config.hydra.sweep.dir)), jobs)
        if taken:
            raise InvalidSweep(taken)
        return super().sweep(arguments)

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Do nothing: :meth:`check` composed and checked every configuration already."""

    def check(self, jobs: list[Sequence[str]]) -> None:
        """Raise :class:`~experiments.errors.InvalidSweep` naming every bad value of ``jobs``."""
        groups = configurations(jobs)
        tasks = [(overrides, [next((o for o in jobs[i] if _key(o) == "seed"), None)
                              for i in members]) for overrides, members in groups.items()]
        try:
            if isinstance(self.launcher, LocalLauncher):
                found = self.launcher.check_in_workers(tasks)
            else:
                found = [check_configuration(overrides, seeds, self.hydra_context, self.config)
                         for overrides, seeds in tasks]
        except Exception as ex:  # a job's config does not compose (e.g. an unknown key)
            raise InvalidSweep(errors.explain(ex, sys.argv[1:])) from ex
        problems: dict[str, list[int]] = {}
        for members, messages in zip(groups.values(), found, strict=True):
            for i, text in zip(members, messages, strict=True):
                if text is not None:
                    problems.setdefault(text, []).append(i)
        if problems:
            raise InvalidSweep(_message(problems, jobs))
        log.debug("checked %d configurations of %d jobs", len(groups), len(jobs))


class LocalLauncher(JoblibLauncher):
    """The joblib launcher, whose worker processes also check the sweep's configurations.

    Takes the arguments of ``joblib.Parallel`` (``n_jobs``, ...), like Hydra's joblib
    launcher. The workers run batches of jobs of one configuration (:func:`batches`,
    :func:`run_batch`), each composed once in its worker.
    """

    def _joblib_cfg(self) -> dict[str, Any]:
        """Return the arguments of ``joblib.Parallel``, one set for the checks and the jobs.

        The same arguments let both run on one reusable pool of worker processes (loky:
        Hydra needs processes).
        """
        return joblib_arguments(dict(self.joblib, backend="loky"))

    def launch(self, job_overrides: Sequence[Sequence[str]],
               initial_job_idx: int) -> Sequence[JobReturn]:
        """Run the jobs in batches on the joblib workers; one JobReturn per job, in order."""
        from joblib import effective_n_jobs

        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        joblib_cfg = self._joblib_cfg()
        jobs = [list(o) for o in job_overrides]
        groups = batches(jobs, effective_n_jobs(joblib_cfg.get("n_jobs")))
        log.info("Joblib.Parallel(%s) is launching %d jobs in %d batches",
                 ",".join(f"{k}={v}" for k, v in joblib_cfg.items()), len(jobs), len(groups))
        log.info("Launching jobs, sweep output dir : %s", sweep_dir)
        for idx, overrides in enumerate(jobs):
            log.info("\t#%d : %s", initial_job_idx + idx, " ".join(filter_overrides(overrides)))
        state = Singleton.get_state()
        done = self.in_workers(run_batch, [
            ([initial_job_idx + i for i in group], [jobs[i] for i in group], self.hydra_context,
             self.config, self.task_function, state, os.getpid()) for group in groups])
        returns: list[JobReturn | None] = [None] * len(jobs)
        for group, results in zip(groups, done, strict=True):
            for i, result in zip(group, results, strict=True):
                returns[i] = result
        return returns

    def check_in_workers(self, tasks: list[tuple]) -> list[list[str | None]]:
        """Run :func:`check_configuration` on each ``(overrides, seeds)`` in the workers."""
        state = Singleton.get_state()
        return self.in_workers(check_configuration, [
            (overrides, seeds, self.hydra_context, self.config, state, os.getpid())
            for overrides, seeds in tasks])

    def in_workers(self, function: Callable[..., Any], calls: Sequence[tuple]) -> list[Any]:
        """Return ``[function(*args) for args in calls]``, computed on the joblib workers.

        Each value comes back through a file of a temporary directory (:func:`in_file`),
        removed when all are read; the first call that raised raises here, after every
        call has run.
        """
        from joblib import Parallel, delayed

        with tempfile.TemporaryDirectory(prefix="retrain-sim-returns-") as tmp:
            paths = [os.path.join(tmp, f"{i}.pickle") for i in range(len(calls))]
            Parallel(**self._joblib_cfg())(delayed(in_file)(path, function, *args)
                                           for path, args in zip(paths, calls, strict=True))
            return [read_outcome(path) for path in paths]
