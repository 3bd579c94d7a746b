"""Option specs of the spiders, one module per spider id (``doj_api.py`` ↔ ``crawler/spiders/doj_api.py``).

These modules import nothing from Scrapy: the settings loader reads them (see :mod:`lawwatch.crawler.options`).
"""
