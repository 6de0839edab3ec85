"""Command-line interface; see :mod:`harness.cli.main`."""
