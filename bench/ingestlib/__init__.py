"""The ingest benchmark behind ``bench/ingest.py``, one job per module.

- ``common``: paths, targets, the error type, shared helpers
- ``payload``: the report pushed by the clients and written by the ceiling
- ``db``: database preparation with the real CLI, throwaway PostgreSQL, row counts
- ``server``: gunicorn process control and single HTTP calls
- ``lockstats``: the ``--lock-stats`` worker hooks and their summary
- ``machine``: machine facts, quiet-machine wait and CPU accounting
- ``clients``: load client processes and timed phases
- ``ceiling``: the same rows straight into the database with ``executemany``
- ``loadmode`` / ``report``: the HTTP benchmark and its printed summary
- ``timers`` / ``profiling`` / ``profile_report``: the in-process profile (``--profile``)
"""
