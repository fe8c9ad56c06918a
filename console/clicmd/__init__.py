"""Subcommands of ``mlops-console``: one module each, with ``register(subparsers, add_globals)``.

These modules are part of the shell (like ``console/cli.py`` and ``console/app.py``): they may
import clients and ``commands``, but only inside their handlers, never at module level.
"""
