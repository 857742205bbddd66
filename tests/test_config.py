"""The config groups are the registry: every YAML instantiates and matches its target."""

import importlib
import inspect
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf
from sklearn.base import BaseEstimator, clone

import sim
import strategies
import strategies.detectors
from experiments import CONF_DIR, GROUPS
from experiments.run import build
from sim.learning import Learning
from sim.streams import Stream
from strategies import Gate, Trigger
from strategies.detectors import StreamingDetector, TwoSampleTest

HYDRA_KEYS = {"_target_", "_convert_", "_recursive_", "_partial_", "_args_"}
OUR_PACKAGES = ("sim.", "strategies.")
COMPONENT_FILES = sorted(p for g in GROUPS for p in (CONF_DIR / g).glob("*.yaml"))
PRESETS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))
KINDS = {"stream": Stream, "trigger": Trigger, "gate": Gate, "cost": sim.Cost,
         "protocol": sim.Protocol, "model": BaseEstimator, "learning": Learning}


def _locate(target: str):
    module, _, name = target.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _targets(node, path="<root>"):
    """Every (path, node) with a ``_target_`` in a config, depth first."""
    if isinstance(node, DictConfig):
        if "_target_" in node:
            yield path, node
        for k, v in node.items():
            yield from _targets(v, f"{path}.{k}")
    elif isinstance(node, ListConfig):
        for i, v in enumerate(node):
            yield from _targets(v, f"{path}[{i}]")


@pytest.fixture(scope="module")
def hydra_conf():
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        yield


def test_there_is_a_config_per_group():
    for group in GROUPS:
        assert list((CONF_DIR / group).glob("*.yaml")), group


@pytest.mark.parametrize("path", COMPONENT_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_component_keys_match_the_signature(path: Path):
    cfg = OmegaConf.load(path)
    assert "_target_" in cfg, f"{path}: a component file holds a _target_"
    for where, node in _targets(cfg):
        target = _locate(node._target_)
        params = inspect.signature(target).parameters
        keys = set(node.keys()) - HYDRA_KEYS
        var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
        named = {n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL,
                                                               p.VAR_KEYWORD)}
        if not var_kw:
            assert keys <= named, f"{path} {where}: unknown keys {sorted(keys - named)}"
        if node._target_.startswith(OUR_PACKAGES):
            # our components list every argument, so that each can be overridden
            assert keys == named, f"{path} {where}: missing keys {sorted(named - keys)}"


@pytest.mark.parametrize("path", COMPONENT_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_component_instantiates_and_validates(path: Path):
    group = path.parent.name
    obj = instantiate(OmegaConf.load(path), _convert_="all")
    assert isinstance(obj, KINDS[group])
    if group == "trigger":
        clone(obj).reset(seed=0)
    elif group in ("gate", "cost", "protocol"):
        obj.check()
    elif group == "stream":
        assert isinstance(obj.drifts, tuple)  # validates the parameters and the schedule
    else:
        clone(obj)


def _public(module, base):
    return [getattr(module, n) for n in module.__all__
            if inspect.isclass(getattr(module, n)) and issubclass(getattr(module, n), base)
            and getattr(module, n) is not base]


def _all_targets(group: str) -> set:
    found = set()
    for path in (CONF_DIR / group).glob("*.yaml"):
        for _, node in _targets(OmegaConf.load(path)):
            found.add(_locate(node._target_))
    return found


def test_every_public_trigger_has_a_config():
    top = {_locate(OmegaConf.load(p)._target_) for p in (CONF_DIR / "trigger").glob("*.yaml")}
    missing = [t.__name__ for t in _public(strategies, Trigger) if t not in top]
    assert not missing, f"no conf/trigger/*.yaml has these triggers as _target_: {missing}"


def test_every_public_detector_and_gate_is_configured():
    targets = _all_targets("trigger")
    missing = [d.__name__ for d in _public(strategies.detectors, StreamingDetector)
               if d not in targets]
    missing += [d.__name__ for d in _public(strategies.detectors, TwoSampleTest)
                if d not in targets and d.__name__ in ("KS", "PSI")]
    assert not missing, f"detectors without a trigger config: {missing}"
    gates = {_locate(OmegaConf.load(p)._target_) for p in (CONF_DIR / "gate").glob("*.yaml")}
    assert set(_public(strategies, Gate)) - {strategies.LiveGate} <= gates  # a family's base


def test_every_public_synthetic_stream_has_a_config():
    # streams over real data (a file) and wrappers need more than a YAML: not required here
    from sim.streams.schedule import SyntheticStream

    targets = _all_targets("stream")
    missing = [s.__name__ for s in _public(sim.streams, Stream)
               if issubclass(s, SyntheticStream) and s not in targets]
    assert not missing, f"streams without a conf/stream/*.yaml: {missing}"


def test_required_options_exist():
    triggers = {p.stem for p in (CONF_DIR / "trigger").glob("*.yaml")}
    assert {"never", "periodic", "data_drift", "performance", "combined", "drift_aware"} <= triggers
    assert {"sudden_concept", "gradual_concept", "incremental_concept", "recurring",
            "covariate_harmless", "covariate_harmful", "prior_shift", "label_delay",
            "threshold_sweep"} <= set(PRESETS)


def test_default_job_is_a_multirun_over_the_families(hydra_conf):
    cfg = compose("config", return_hydra_config=True)
    assert str(cfg.hydra.mode) == "RunMode.MULTIRUN"
    params = cfg.hydra.sweeper.params
    assert params.trigger.split(",") == ["never", "periodic", "data_drift", "performance",
                                         "combined", "drift_aware"]
    assert len(str(params.seed).split(",")) == 3
    assert cfg.hydra.launcher._target_.endswith("LocalLauncher")  # joblib, checks in workers
    assert cfg.hydra.sweeper._target_.endswith("CheckedSweeper")  # conf/hydra/sweeper/basic.yaml
    assert cfg.hydra.launcher.n_jobs == -1
    assert "report" in cfg.hydra.callbacks
    assert cfg.resume == "auto" and cfg.fail_fast is False
    assert str(cfg.hydra.sweep.dir).startswith("results/")
    kinds = {d.kind for d in build(cfg)["stream"].drifts}
    assert {"covariate", "concept"} <= kinds
    for trigger in params.trigger.split(","):
        assert isinstance(build(compose("config", [f"trigger={trigger}"]))["trigger"], Trigger)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_composes(hydra_conf, name):
    text = (CONF_DIR / "experiment" / f"{name}.yaml").read_text()
    assert text.startswith("# @package _global_")
    assert f"retrain-sim -m experiment={name}" in text, "the header gives the command"
    cfg = compose("config", [f"experiment={name}"], return_hydra_config=True)
    components = build(cfg)
    assert all(components[g] is not None for g in GROUPS)
    n_samples = getattr(components["stream"], "n_samples", None)
    if n_samples is not None:  # a stream of known length: its windows fit in it
        components["protocol"].check_stream(n_samples)
    # every option the preset's sweep picks composes too
    for key, value in cfg.hydra.sweeper.params.items():
        if key in GROUPS:
            for option in str(value).split(","):
                build(compose("config", [f"experiment={name}", f"{key}={option}"]))


def test_seed_is_top_level(hydra_conf):
    cfg = compose("config", ["seed=7"])
    assert cfg.seed == 7


def test_the_label_check_nests_with_the_other_gates_from_the_command_line(hydra_conf):
    """``gate=label_check`` wraps a holdout, and a live gate wraps a label check."""
    gate = build(compose("config", ["gate=label_check",
                                    "gate.gate={_target_: strategies.Holdout}"]))["gate"]
    tags = gate.check().__retrain_tags__()
    assert isinstance(gate.gate, strategies.Holdout) and tags.n_val == 500
    assert tags.needs_training_labels
    live = build(compose("config", ["gate=rollback",
                                    "gate.gate={_target_: strategies.LabelCheck}"]))["gate"]
    assert isinstance(live.gate, strategies.LabelCheck)
    assert live.check().__retrain_tags__().needs_training_labels
