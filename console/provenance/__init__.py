"""Provenance of a model version: which run, which data snapshot, which commit.

``model`` holds the record's types (light: widgets read them), ``collect`` assembles a record
from MLflow, Iceberg, git and lineage, ``text`` renders one for a terminal. Importing the package
imports none of them.
"""
