"""The garbage collector's settings for long work in one process: a crawl's reactor and its ingest worker.

Python's cyclic collector walks every tracked object of a generation when it collects it, and a full collection
walks all of them: after lawwatch's imports (Scrapy, Twisted, SQLAlchemy, the classifier's tables) that is 120,000
to 160,000 objects that live as long as the process. A crawl of 2,000 releases made seven full collections, 0.35-0.43 s
of CPU (0.17 ms per page, a sixth of what the crawl process spends); its young generation, collected every 700 new
objects, ran ~900 times more. :func:`long_lived` takes what exists out of the collector's reach (``gc.freeze``) and
collects the young generation less often; both are undone when the work ends. Garbage cycles made before it stay
until then, and the collector still frees every cycle made during the work. (``lawwatch serve`` freezes its own
heap once it is ready: ``web/server.settle``.)
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Net new tracked objects between two collections of the youngest generation (Python's default: 700), and how many
# of those before the next generation is collected (default 10 and 10). A crawl's requests, responses and items
# are freed by reference counting as they go; fewer, larger collections find the same cycles.
THRESHOLD = (50_000, 20, 20)


def freeze() -> None:
    """Take every object that exists now out of the collector's reach, for good (a process whose work lasts until it
    ends: the ingest worker once its classifier is loaded), and collect less often from now on."""
    gc.freeze()
    gc.set_threshold(*THRESHOLD)


@contextmanager
def loading_for_good() -> Iterator[None]:
    """Load, inside the block, what the process keeps until it ends (the ingest worker's classifier), with no
    collection on the way (each would walk the tables loaded so far, and the first after them all of them: 0.026 s
    of the worker's 0.17), then :func:`freeze`."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        freeze()
        if was:
            gc.enable()


@contextmanager
def long_lived() -> Iterator[None]:
    """:func:`freeze` for the work inside the block; the collector's settings as they were afterwards."""
    threshold = gc.get_threshold()
    freeze()
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
