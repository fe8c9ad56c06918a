"""The registry's history: who moved which alias or stage, when, and how we know.

``db`` is the sqlite schema (stdlib, shared with the webhook receiver), ``receiver`` the webhook
receiver the embedded supervisor runs, ``model`` the events and the fold that answers "what was
true at T", ``store`` typed access to events, inbox and observed snapshots. Importing the package
imports none of them.
"""
