"""Operations of the console: promote, diagnose, lineage sync, runbooks, the demo pipeline.

Commands import the console core, never Textual or ``widgets``; they talk to whoever runs them
through a ``Driver`` (see ``commands.driver``) so the same command runs in the TUI, the CLI and a
runbook.
"""
