"""The demo lifecycle: the reference pipeline that fills the embedded stack (``build_demo``).

Submodules import mlflow, pandas, scikit-learn and pyiceberg; this package itself imports nothing.
"""
