"""``python -m lawwatch``: the same command line as the ``lawwatch`` console script."""

from __future__ import annotations

from lawwatch.cli import main

if __name__ == "__main__":
    main()
