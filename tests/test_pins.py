"""The results of the simulator are pinned: a refactor must not change one of them.

``tests/pins/pins.json`` holds, for every configuration of ``tests/pins/make_pins.py``
(every trigger family and combinator, every window policy, label delay and rate, deploy
latency, a gate that rejects, a tree, a regression stream, streams that cut their own
steps, with and without a cache), every column of a replay's timeline and events and its
summary, and for a few the oracle's frontier and accuracy matrix.

Discrete outcomes (retrain steps, gate verdicts and reasons, training windows, counts,
model ids, label counts) must be reproduced exactly. Floats must agree within
``make_pins.RTOL = 1e-9`` relative and ``make_pins.ATOL = 1e-12`` absolute (numpy's
``assert_allclose`` rule, ``|got - want| <= atol + rtol * |want|``): another CPU or BLAS
build changes floats in their last bits (OpenBLAS's Prescott or Sandybridge kernels instead
of Haswell's: at most 8.8e-13 relative, no discrete outcome) and the pins store floats
rounded to 12 significant digits (5e-13), so 1e-9 leaves three orders of magnitude of
margin, while a real change (one prediction of a 250-sample step is 4e-3 of its accuracy)
is far larger; atol absorbs noise around zero. A failure names the configuration and the
field. Regenerate the pins only for a deliberate change of results:
``python tests/pins/make_pins.py`` prints the configurations and fields that changed.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from sim.protocol import LabelArrival

sys.path.insert(0, str(Path(__file__).parent / "pins"))

import make_pins  # noqa: E402

PINS = json.loads(make_pins.PINS.read_text())


def _delayed(args: dict) -> bool:
    return args.get("label_delay", 0) > 0


def test_the_pins_cover_the_configurations():
    assert set(PINS["runs"]) == set(make_pins.CONFIGS)
    assert set(PINS["oracles"]) == set(make_pins.ORACLES)
    assert len(PINS["runs"]) >= 30


@pytest.fixture(scope="module")
def results():
    """Every pinned run, replayed once for the module (the oracle cases reuse them)."""
    out = {}
    with threadpool_limits(1):
        for name in make_pins.CONFIGS:
            out[name] = make_pins.run_config(name)
    return out


@pytest.mark.parametrize("name", sorted(make_pins.CONFIGS))
def test_a_replay_reproduces_its_pin(name, results):
    got, _ = results[name]
    differences = make_pins.compare(PINS["runs"][name], got)
    assert not differences, f"{name}: " + "; ".join(differences[:10])


@pytest.mark.parametrize("name", sorted(make_pins.ORACLES))
def test_an_oracle_reproduces_its_pin(name, results):
    with threadpool_limits(1):
        got = make_pins.run_oracle(name, {k: r for k, (_, r) in results.items()})
    differences = make_pins.compare(PINS["oracles"][name], got)
    assert not differences, f"{name}: " + "; ".join(differences[:10])


def test_the_pins_keep_every_column_and_no_digest():
    assert all(set(pin) == {"timeline", "events", "summary"} for pin in PINS["runs"].values())
    assert all(set(pin) == {"accuracy", "steps", "cost", "candidates", "correct", "rows",
                            "n_labels"} for pin in PINS["oracles"].values())
    pin = PINS["runs"]["holdout_rejections"]
    assert {"accuracy", "model_id", "n_labels", "retrain", "accepted", "cost"} <= set(
        pin["timeline"])
    assert {"step", "accepted", "gate_reason", "train_start", "train_end", "n_train", "n_val",
            "benefit", "reason", "skipped"} <= set(pin["events"])
    assert "fit_seconds" not in pin["events"] and "fit_seconds" not in pin["summary"]


def test_last_bit_differences_pass_and_real_changes_fail():
    """What another CPU changes (the last bits of a float) passes; a changed result does not."""
    want = PINS["runs"]["regression_never"]
    got = json.loads(json.dumps(want))
    mae = got["timeline"]["mae"]
    got["timeline"]["mae"] = [float(np.nextafter(v, 1.0) * (1 + 1e-13)) for v in mae]
    got["summary"]["mean_mae"] *= 1 - 1e-13
    assert make_pins.compare(want, got) == []

    got["timeline"]["mae"][5] *= 1 + 1e-6
    got["timeline"]["model_id"][7] += 1
    assert make_pins.compare(want, got) == [
        f"timeline.mae[5]: {mae[5]!r} != {got['timeline']['mae'][5]!r} (rtol 1e-09, atol 1e-12)",
        "timeline.model_id[7]: 0 != 1"]
    got["timeline"]["model_id"] = got["timeline"]["model_id"][:-1]
    assert make_pins.compare(want, got)[-1] == "timeline.model_id: 40 values != 39"


def test_the_pins_catch_labels_arriving_one_step_early(monkeypatch):
    """The mutation "labels of step s arrive at s + delay - 1" fails every delayed pin."""
    runs = [n for n, make in make_pins.CONFIGS.items() if _delayed(make())]
    oracles = [n for n, (_, make) in make_pins.ORACLES.items()
               if _delayed(make()["protocol_params"])]
    assert len(runs) >= 5 and len(oracles) >= 3
    monkeypatch.setattr(LabelArrival, "due", lambda self, t: t + self.delay - 1)
    caught = {}
    with threadpool_limits(1):
        for name in runs:
            caught[name] = make_pins.compare(PINS["runs"][name], make_pins.run_config(name)[0])
        for name in oracles:
            caught[name] = make_pins.compare(PINS["oracles"][name], make_pins.run_oracle(name))
    assert all(caught.values()), [name for name, found in caught.items() if not found]
    assert any(d.startswith("timeline.n_labels[") for d in caught["performance_label_delay"])


def test_regenerating_lists_what_changed():
    old = {"runs": {"a": {"steps": [1, 2], "acc": [0.5]}, "b": {"steps": []}},
           "oracles": {"o": {"cost": [1.0]}}}
    new = {"runs": {"a": {"steps": [1, 3], "acc": [0.5 + 1e-15]}, "c": {"steps": []}},
           "oracles": {"o": {"cost": [1.0]}}}
    assert make_pins.changes(old, new) == {"runs/a": ["steps[1]: 2 != 3"],
                                           "runs/b": ["no longer pinned"],
                                           "runs/c": ["newly pinned"]}


def test_make_pins_rewrites_the_file_and_prints_the_changes(tmp_path, monkeypatch, capsys):
    path = tmp_path / "pins.json"
    path.write_text(make_pins.dump({"oracles": {}, "runs": {"a": {"steps": [1, 2]}}}))
    new = {"oracles": {}, "runs": {"a": {"steps": [1, 3], "mean": 0.25}}}
    monkeypatch.setattr(make_pins, "PINS", path)
    monkeypatch.setattr(make_pins, "make", lambda: new)
    make_pins.main()
    assert capsys.readouterr().out == "runs/a: mean: new; steps[1]: 2 != 3\n"
    assert json.loads(path.read_text()) == new
