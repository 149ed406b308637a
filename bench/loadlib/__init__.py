"""The load benchmarks behind ``bench/load.py`` (issue 14), one job per module.

- ``plan``: what each simulated phone sends, pass by pass
- ``photos``: distinct generated JPEGs, made before the timed part
- ``provision``: the devices and the coordinator, enrolled by a child process
- ``serve``: the database and gunicorn (the ingest benchmark's helpers)
- ``phone`` / ``coordinator``: the requests of a sync pass and of the workspace, checked
- ``users``: the locust users (shift-end phones, soak phones, the coordinator)
- ``runner``: locust as a library; ``stats``: latencies and errors per request kind
- ``rss``: worker memory from /proc; ``store``: row counts, table and photo sizes
- ``shift`` / ``soak`` / ``cost`` / ``sizes`` / ``report``: the commands and their output
"""
