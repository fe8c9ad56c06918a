"""``python -m console``: the same entry point as the ``mlops-console`` script."""

from console.cli import main

raise SystemExit(main())
