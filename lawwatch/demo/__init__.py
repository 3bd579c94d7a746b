"""``lawwatch demo``: the whole pipeline offline — the bundled mirror of every source, a local Slack-compatible
server and a real SMTP server (aiosmtpd) on loopback, a fresh archive in its own folder, the real spiders, ingest,
classifier, outbox, dispatcher and channels. Only the remote servers are stand-ins.

- ``session.py``: ``DemoSession`` prepares the folder and the servers, crawls, dispatches and reports.
- ``slack.py``: the Slack Web API's ``chat.postMessage`` (and an incoming webhook) on 127.0.0.1.
- ``smtp.py``: an aiosmtpd SMTP server on 127.0.0.1 that keeps (and spools) what it receives.
- ``data/alerts.toml``: the demo's targets and rules, appended to the mirror's generated sources.
"""

from __future__ import annotations
