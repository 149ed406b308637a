"""Gunicorn settings for Lägesbild; every value can be overridden from the environment."""

import gc
import multiprocessing
import os

bind = os.environ.get("LAGESBILD_BIND", "127.0.0.1:5000")
# Sync workers: requests are short and CPU-bound (JSON, validation, image re-encoding).
workers = int(os.environ.get("LAGESBILD_WORKERS", multiprocessing.cpu_count()))
worker_class = "sync"
# Photo uploads from a phone on a bad connection can be slow to arrive.
timeout = int(os.environ.get("LAGESBILD_WORKER_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never take the server down.
max_requests = int(os.environ.get("LAGESBILD_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
accesslog = os.environ.get("LAGESBILD_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("LAGESBILD_LOG_LEVEL", "info")
# Do not log query strings: pull cursors are harmless, but keep logs free of anything else.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(L)ss'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 27's control socket defaults to one fixed path per user, shared by every instance
# on the host; Lägesbild does not use it.
control_socket_disable = True


# The morning digest: every worker runs the digest job once a minute; a lease in the
# database lets exactly one of them send each digest (server.digest.scheduler). The job
# must run in the worker, after the fork (a thread started in the master does not survive
# it), and a send in progress should finish before a worker exits.


# The nightly retention purge runs the same way (server.retention.worker), and so does the
# grouping of pushed reports into incidents (server.incidents.worker), woken by each push.


def post_worker_init(worker):
    """Start the jobs here (no-ops when create_app already did), then freeze what is loaded."""
    from server.alerts.worker import start_in_worker as start_alerts_in_worker
    from server.digest.scheduler import start_in_worker
    from server.incidents.worker import start_in_worker as start_grouping_in_worker
    from server.retention.worker import start_in_worker as start_purge_in_worker

    start_in_worker(getattr(worker, "wsgi", None))
    start_purge_in_worker(getattr(worker, "wsgi", None))
    start_grouping_in_worker(getattr(worker, "wsgi", None))
    start_alerts_in_worker(getattr(worker, "wsgi", None))
    # What the worker has loaded by now (modules, the app, the models' metadata: about
    # 165,000 objects) lives as long as the worker. Frozen, it is left out of the
    # collector's full passes, which otherwise scan it all (about 80 ms each, every few
    # hundred pushes: a quarter of a millisecond per push and a spike in the p99).
    gc.freeze()


def post_request(worker, req, environ, resp):
    """Give the C heap a large answer freed back to the system (server/memory.py)."""
    # Without it a worker's RSS climbs with the largest page of the night so far, though
    # its live objects stay flat (docs/benchmarks.md, the soak; server/memory.py).
    from server.memory import trim

    trim()


def worker_exit(server, worker):
    """Stop the jobs, waiting for a send, a purge batch or a grouping pass in progress."""
    from server.alerts.worker import stop_in_worker as stop_alerts_in_worker
    from server.digest.scheduler import stop_in_worker
    from server.incidents.worker import stop_in_worker as stop_grouping_in_worker
    from server.retention.worker import stop_in_worker as stop_purge_in_worker

    stop_in_worker(getattr(worker, "wsgi", None))
    stop_purge_in_worker(getattr(worker, "wsgi", None))
    stop_grouping_in_worker(getattr(worker, "wsgi", None))
    stop_alerts_in_worker(getattr(worker, "wsgi", None))
