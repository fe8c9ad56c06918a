"""The predict service: one registered model version behind MLflow's scoring protocol.

``python -m commands.serve --model M --version V ...`` loads ``models:/M/V`` through MLflow's
pyfunc and serves it with Starlette on uvicorn (see ``app``). Only the process started that way
imports mlflow, pandas or pyiceberg; the modules here that the console imports (``options``,
``metrics``) are stdlib only.
"""
