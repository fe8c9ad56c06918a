"""mlops-console: a terminal operations console for the model lifecycle.

The package root stays empty on purpose: importing ``console`` must cost nothing, so the CLI's
``--help`` and the TUI's first frame are not slowed by modules they do not need.
"""

__version__ = "0.1.0"
