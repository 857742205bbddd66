"""retrain-sim's Hydra plugins (Hydra instantiates sweepers and launchers only from here).

- :mod:`hydra_plugins.retrain_sim.launcher`: the sweeper that checks every job before
  any starts, and the joblib launcher whose workers run those checks.
"""
