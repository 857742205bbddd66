"""retrain-sim's Hydra configs: this directory is installed as the package ``experiments.conf``.

Edit the YAML files here (one directory per config group); ``pyproject.toml`` maps the
package onto this directory, so an editable install reads them in place and a wheel
ships them.
"""
