"""The field-app (PWA) benchmark behind ``bench/pwa.py``, one job per module.

- ``common``: the issue's targets, Chromium launch settings, small statistics helpers
- ``appserver``: the app on a migrated SQLite copy, served from a thread, counting the bytes
  of every response (raw and as a gzip proxy would send them)
- ``shell``: (a) bytes of the first visit (app shell, service-worker precache, API)
- ``coldstart``: (b) offline cold start to clickable "new report" tiles, and its baseline
- ``photo``: (c) a 12-megapixel photo through ``pwa/photos.js`` ``processPhoto``, and its baseline
"""
