"""What the figures of :mod:`sim.display` draw, and where (issue 23).

The rows of ticks at a panel's foot hold one seed each; a live trial's bars sit on its
seed's row and must stay in it at every traffic share, or a reader cannot tell whose
trial a bar is (the staged canary's 50% stage reached into the next seed's row).
"""

import numpy as np
import pandas as pd
import pytest

from sim import display

SHARES = (0.01, 0.1, 0.5, 1.0)  # the staged canary's stages, then the whole traffic


def _canary_series(shares=SHARES, steps: int = 40) -> display.Series:
    """One configuration, a seed per share: each seed's trial serves that share throughout."""
    step = np.arange(steps)
    on = (step >= 10) & (step < 16)
    timelines, trials = [], []
    for seed, share in enumerate(shares):
        timelines.append(pd.DataFrame({"step": step, "accuracy": 0.8 + 0.01 * seed}))
        trials.append(pd.DataFrame({"step": step, "challenger_id": np.where(on, seed, -1),
                                    "challenger_share": np.where(on, share, 0.0)}))
    return display.Series("gate=staged_canary", timelines,
                          [[(16, True)] for _ in shares], trials=trials)


def _rows_and_bars(ax):
    """Return the rows' centres (axes fraction, from the retrain ticks) and the trial bars'
    vertical extents (axes fraction, bottom and top of each bar's polygon)."""
    centres = sorted({float(line.get_ydata()[0]) for line in ax.lines
                      if line.get_marker() == "|" and len(line.get_ydata())})
    from matplotlib.colors import to_rgba

    canary = np.array(to_rgba(display.TRIAL_COLORS["canary"], 0.8))
    bars = [(path.vertices[:, 1].min(), path.vertices[:, 1].max())
            for coll in ax.collections
            if np.allclose(coll.get_facecolor()[0], canary)
            for path in coll.get_paths()]
    return centres, bars


def test_every_canary_bar_stays_within_its_seeds_row_at_every_share():
    fig = display.over_time([_canary_series()])[0]
    centres, bars = _rows_and_bars(fig.axes[0])
    assert len(centres) == len(SHARES) and len(bars) == len(SHARES)
    half = (centres[1] - centres[0]) / 2  # a row's band: its centre +- half the spacing
    for (bottom, top), centre, share in zip(sorted(bars, key=sum), centres, SHARES, strict=True):
        assert centre - half < bottom < top < centre + half, (share, bottom, top, centre)
        assert bottom > 0  # whole inside the panel, not clipped at its foot
    display.pyplot().close(fig)


def test_canary_bars_show_their_share_legibly_and_the_legend_says_how():
    fig = display.over_time([_canary_series()])[0]
    ax = fig.axes[0]
    _, bars = _rows_and_bars(ax)
    fig.canvas.draw()
    pixels = ax.get_window_extent().height  # the panel's height in pixels
    heights = [(top - bottom) * pixels for bottom, top in sorted(bars, key=sum)]
    assert heights[0] >= 2  # the 1% stage is visible
    assert np.all(np.diff(heights) >= 1.5), heights  # each larger share visibly taller
    legend = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    canary = next(text for text in legend if text.startswith("canary"))
    assert "bar height" in canary and "100%" in canary
    display.pyplot().close(fig)


@pytest.mark.parametrize("share", SHARES)
def test_two_seeds_trials_at_one_share_stay_apart_in_every_panel(share):
    series = _canary_series((share, share))
    fig = display.over_time([series, series])[0]
    for ax in fig.axes[:2]:
        centres, bars = _rows_and_bars(ax)
        (_, low_top), (high_bottom, _) = sorted(bars, key=sum)
        assert low_top < (centres[0] + centres[1]) / 2 < high_bottom
    display.pyplot().close(fig)
