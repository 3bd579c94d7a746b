"""www.courthousenews.com: a WordPress RSS 2.0 feed (``/feed/``, with ``content:encoded``) and article pages.

Articles (``/<slug>/``, text in ``div.entry-content``, inside WordPress-like chrome for the extractor to strip):
the § 1373 story of ``data/court_story.json`` written as news, plus background articles built from three of the
real DOJ releases (non-matches). ``publish`` adds synthetic test articles; ``edit`` appends a correction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from lawwatch.crawler.mirror.sites.base import (
    Resource,
    SentenceBank,
    Site,
    html_page,
    next_stamp,
    read_json,
    read_jsonl,
    rfc822,
    slugify,
)

HOST = "www.courthousenews.com"
ROOT = f"https://{HOST}"
FEED_SIZE = 20
AUTHOR = "CNS Staff"


@dataclass(slots=True)
class Article:
    post_id: int
    title: str
    date: float
    category: str
    paragraphs: list[str]
    modified: float = 0.0

    @property
    def url(self) -> str:
        return f"{ROOT}/{slugify(self.title)}/"

    @property
    def path(self) -> str:
        return f"/{slugify(self.title)}/"

    @property
    def html(self) -> str:
        return "\n".join(f"<p>{escape(p, quote=False)}</p>" for p in self.paragraphs)


class CourthouseNews(Site):
    host = HOST
    hosts = (HOST,)

    def __init__(self) -> None:
        story = read_json("court_story.json")
        self.articles = []
        for row in story["articles"]:
            stamp = datetime.fromisoformat(row["date"]).replace(tzinfo=UTC).timestamp()
            self.articles.append(
                Article(row["id"], row["title"], stamp, row["category"], list(row["paragraphs"]), stamp)
            )
        background = read_jsonl("doj_corpus_100.jsonl")
        self.bank = SentenceBank([row["body"] for row in background])
        for n, row in enumerate(background[:3]):
            text = SentenceBank([row["body"]]).sentences[:4]
            stamp = float(row["date"]) + 6 * 3600
            self.articles.append(Article(201 + n, row["title"], stamp, "Criminal", text, stamp))
        self._published = 0
        self._sort()

    def _sort(self) -> None:
        self.articles.sort(key=lambda a: a.date, reverse=True)
        self.by_path = {a.path: a for a in self.articles}
        self.modified = max(a.modified for a in self.articles)

    def publish(self, count: int) -> list[str]:
        urls = []
        for _ in range(count):
            self._published += 1
            n = self._published
            stamp = next_stamp(self.modified)
            paragraphs = [
                f"This is synthetic test article {n} published by the lawwatch offline mirror.",
                *self.bank.paragraphs(70_000 + n, count=3),
            ]
            article = Article(
                900 + n, f"Mirror test article {n}: {self.bank.title(70_000 + n)}", stamp, "Test", paragraphs, stamp
            )
            self.articles.append(article)
            self.modified = stamp
            urls.append(article.url)
        self._sort()
        return urls

    def edit(self, which: int = 0) -> str:
        article = self.articles[which]
        article.modified = next_stamp(self.modified)
        article.paragraphs = [p for p in article.paragraphs if not p.startswith("Correction (")]
        article.paragraphs.append(f"Correction ({int(article.modified)}): this article was updated by the mirror.")
        self.modified = article.modified
        return article.url

    def get(self, path: str, query: dict[str, list[str]]) -> Resource | None:
        if path == "/feed/":
            return self._feed()
        article = self.by_path.get(path)
        if article is None:
            return None
        return Resource(self._page(article), "text/html", article.modified)

    def _feed(self) -> Resource:
        items = "\n".join(
            f"<item>\n<title>{escape(a.title)}</title>\n<link>{a.url}</link>\n"
            f"<dc:creator><![CDATA[{AUTHOR}]]></dc:creator>\n<pubDate>{rfc822(a.date)}</pubDate>\n"
            f"<category><![CDATA[{a.category}]]></category>\n"
            f'<guid isPermaLink="false">{ROOT}/?p={a.post_id}</guid>\n'
            f"<description><![CDATA[{a.paragraphs[0][:250]} [&#8230;]]]></description>\n"
            f"<content:encoded><![CDATA[{a.html}]]></content:encoded>\n</item>"
            for a in self.articles[:FEED_SIZE]
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"\n'
            '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
            '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
            '\txmlns:atom="http://www.w3.org/2005/Atom"\n\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"\n'
            ">\n<channel>\n<title>Courthouse News Service</title>\n"
            f'<atom:link href="{ROOT}/feed/" rel="self" type="application/rss+xml" />\n<link>{ROOT}</link>\n'
            f"<description>Courthouse News Service</description>\n<lastBuildDate>{rfc822(self.modified)}"
            "</lastBuildDate>\n<language>en-US</language>\n<sy:updatePeriod>hourly</sy:updatePeriod>\n"
            "<sy:updateFrequency>1</sy:updateFrequency>\n<generator>https://wordpress.org/?v=6.4</generator>\n"
            f"{items}\n</channel>\n</rss>\n"
        )
        return Resource(body.encode(), "application/rss+xml", self.modified, xml=True)

    def _page(self, a: Article) -> bytes:
        stamp = datetime.fromtimestamp(a.date, UTC)
        related = "".join(f'<li><a href="{o.url}">{escape(o.title)}</a></li>' for o in self.articles[:5] if o is not a)
        main = (
            f'<header class="site-header"><a href="{ROOT}/">Courthouse News Service</a>'
            f'<nav class="main-nav"><a href="{ROOT}/courts/">Courts</a> <a href="{ROOT}/government/">Government</a>'
            f' <a href="{ROOT}/subscribe/">Subscribe</a></nav></header>\n'
            f'<main id="main" class="site-main">\n<article id="post-{a.post_id}" class="post type-post">\n'
            f'<header class="entry-header"><h1 class="entry-title">{escape(a.title)}</h1>\n'
            f'<div class="entry-meta"><span class="byline">{AUTHOR}</span> '
            f'<time class="entry-date published" datetime="{stamp.isoformat()}">{stamp:%B} {stamp.day}, '
            f"{stamp.year}</time></div></header>\n"
            f'<div class="entry-content">\n{a.html}\n</div>\n</article>\n</main>\n'
            f'<aside class="widget-area"><h2 class="widget-title">Read more</h2><ul>{related}</ul></aside>\n'
            f'<footer class="site-footer">Copyright Courthouse News Service. <a href="{ROOT}/privacy/">Privacy</a>'
            "</footer>"
        )
        return html_page(
            f"{a.title} | Courthouse News Service",
            main,
            head=f'<link rel="canonical" href="{a.url}">\n<meta property="og:title" content="{escape(a.title)}">\n',
        )
