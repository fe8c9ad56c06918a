"""The embedded default: a local MLflow server the console starts, reuses and stops.

``lifecycle`` holds its paths and start/reuse/stop; ``procs`` the process checks it rests on
(who is alive, whose command line); ``supervisor`` the small process that outlives the console
and stops the idle server. Importing the package imports none of them.
"""
