"""``lawwatch serve``: the archive as web pages, an Atom feed of any search and a JSON API — read-only.

One FastAPI app (``app.create_app(archive)``), served by uvicorn (``server.py``). Every page and the API read the
archive through the same pieces as the command line: ``DocumentFilter.from_user`` turns the URL's filters into a
filter, ``pipeline.search.search`` runs a search, ``pipeline.query`` gives a document the shape of ``lawwatch show
--json``. What only the web needs lives here:

    params.py      the URL's search state (q, filters, order, paging) ⇄ a DocumentFilter and links
    searching.py   one search as the pages, the API and the feed run it, in the shape of `search --json`
    facets.py      facet counts (jurisdiction, statute, type, source, year) of a search
    documents.py   a document's body with its citations and place mentions highlighted; diffs of its versions
    timeline.py    a jurisdiction's § 1373 story: events grouped by court case, drawn as SVG on the server
    places.py      the jurisdictions with their counts
    pages.py       the HTML pages and the Atom feed (Jinja2, autoescaped); api.py the JSON API
    app.py         the app: security headers, read-only sessions, errors as JSON or a page, never a traceback
    server.py      uvicorn, and the loopback rule (--allow-remote)

Scraped text is untrusted everywhere: templates autoescape it, and the few fragments built in Python (snippets,
highlighted bodies, diffs, the SVG) escape every piece of text with ``markupsafe.escape`` before adding markup.
"""

from __future__ import annotations

from lawwatch.web.app import create_app

__all__ = ["create_app"]
