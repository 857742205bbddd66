"""The results of the simulator are pinned: a refactor must not change one of them.

``tests/pins/pins.json`` holds, for every configuration of ``tests/pins/make_pins.py``
(every trigger family and combinator, every window policy, label delay and rate, deploy
latency, a gate that rejects, a tree, a regression stream, streams that cut their own
steps, with and without a cache), the retrain steps, gate verdicts, training windows,
per-step metric, labels and summary of a replay, and for a few the oracle's frontier;
each must be reproduced exactly (CPU-second fields aside). Regenerate the pins only for
a deliberate change of results: ``python tests/pins/make_pins.py``.
"""

import json
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parent / "pins"))

import make_pins  # noqa: E402

PINS = json.loads(make_pins.PINS.read_text())


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
    want = PINS["runs"][name]
    for key in want:  # field by field, so a failure names what changed
        assert got[key] == want[key], f"{name}: {key} changed"


@pytest.mark.parametrize("name", sorted(make_pins.ORACLES))
def test_an_oracle_reproduces_its_pin(name, results):
    with threadpool_limits(1):
        got = make_pins.run_oracle(name, {k: r for k, (_, r) in results.items()})
    want = PINS["oracles"][name]
    for key in want:
        assert got[key] == want[key], f"{name}: {key} changed"
