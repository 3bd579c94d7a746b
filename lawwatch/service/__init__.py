"""The parts of the background service (``lawwatch run``, :mod:`lawwatch.scheduler`) that stand on their own:

- ``lock``      one scheduler per archive (a PostgreSQL advisory lock; on SQLite a lock row with a heartbeat)
- ``crawls``    ``lawwatch crawl SOURCE`` in a subprocess with a timeout; runs whose process died → ``interrupted``
- ``watchdog``  sources that went quiet or keep failing, told once to ``alerts.ops_targets`` (and once on recovery)
- ``health``    the ``/healthz`` endpoint (stdlib HTTP server, loopback by default)
- ``logs``      one log line per event, as text or JSON

None of them imports Scrapy, click or rich.
"""
