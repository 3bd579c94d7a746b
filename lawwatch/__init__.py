"""lawwatch: watch DOJ releases and court news for 8 U.S.C. § 1373 letters and rulings; archive, search and alert.

The one import package. Its folders follow the data's path (README: "How it works"): ``crawler/`` collects,
``pipeline/`` normalizes, classifies and stores, ``alerts/`` delivers, ``scheduler.py`` runs it all in the
background, and ``cli/`` is the command line at the edge.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
