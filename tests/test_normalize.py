from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lawwatch.pipeline.normalize import (
    _PLAIN_URL,
    _canonical_url,
    canonical_url,
    content_hash,
    html_to_text,
    normalize_document,
    to_utc,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.justice.gov/opa/pr/x#section", "https://www.justice.gov/opa/pr/x"),
        ("https://www.justice.gov/news?utm_source=rss&page=2&utm_medium=feed", "https://www.justice.gov/news?page=2"),
        ("https://WWW.Justice.GOV/news?b=2&a=1", "https://www.justice.gov/news?a=1&b=2"),
        ("https://example.org/a%20b?q=x y", "https://example.org/a%20b?q=x+y"),
        ("https://example.org/?utm=1", "https://example.org/?utm=1"),  # not a utm_* tracking key: kept
    ],
)
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


def _full_canonical(url: str) -> str | Exception:
    try:
        return _canonical_url(url.strip())
    except Exception as exc:  # (w3lib refuses a port out of range)
        return exc


def _fast_canonical(url: str) -> str | Exception:
    try:
        return canonical_url(url)
    except Exception as exc:
        return exc


def test_a_url_left_as_it_is_is_exactly_what_the_full_canonical_form_gives() -> None:
    """Every combination of the forms each part of a URL can take: the short cut (a URL already canonical is
    returned as it is) and w3lib's full canonical form agree, refusals included."""
    schemes = ["http", "https", "HTTPS", "ftp"]
    hosts = ["www.justice.gov", "WWW.Justice.gov", "127.0.0.1", "x-y.gov", "xn--bcher-kva.example", "x.gov.", "x..gov"]
    hosts += ["-x.gov", "bücher.example", "x_y.gov", ""]
    ports = ["", ":1", ":80", ":443", ":0080", ":65535", ":65536", ":99999", ":", ":0"]
    paths = ["", "/", "//", "/a", "/a/", "/a//b", "/./a", "/a/./b", "/a/../b", "/..", "/.a", "/a.", "/a..b", "/~x"]
    paths += ["/%41", "/%7e", "/a b", "/é", "/a:b", "/a@b", "/A-b_c.html", "/a;b", "/a+b", "/a%2Fb", "/a/b/"]
    tails = ["", "?", "?b=1&a=2", "#frag", "?utm_source=x", " ", "\t"]
    checked = shortcut = 0
    for scheme in schemes:
        for host in hosts:
            for port in ports:
                for path in paths:
                    for tail in tails:
                        url = f" {scheme}://{host}{port}{path}{tail}"
                        full, fast = _full_canonical(url), _fast_canonical(url)
                        if isinstance(full, Exception):
                            assert isinstance(fast, Exception) and str(fast) == str(full), url
                        else:
                            assert fast == full, url
                        checked += 1
                        shortcut += _PLAIN_URL.match(url.strip()) is not None
    assert checked == 4 * 11 * 10 * 25 * 7 and shortcut > 500  # the short cut is taken, and not only on one form
    assert _PLAIN_URL.match("https://www.justice.gov/opa/pr/justice-department-letters-1373")


def test_html_to_text_drops_furniture_and_keeps_paragraphs() -> None:
    html = (
        "<html><head><style>p{}</style><script>var x=1;</script></head><body>"
        "<nav>Home | News</nav><header>Department of Justice</header>"
        "<h1>Letters sent</h1><p>First   paragraph &amp; more.</p><p>Second<br>line.</p>"
        "<footer>Contact us</footer></body></html>"
    )
    text = html_to_text(html)
    assert text == "Letters sent\n\nFirst paragraph & more.\n\nSecond\nline."
    assert "Home" not in text and "var x" not in text and "Contact" not in text


def test_html_to_text_empty_and_plain() -> None:
    assert html_to_text("") == ""
    assert html_to_text("just text") == "just text"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1508330100", datetime(2017, 10, 18, 12, 35, tzinfo=UTC)),
        (1508330100, datetime(2017, 10, 18, 12, 35, tzinfo=UTC)),
        ('<time datetime="2025-02-05T12:37:10-05:00">1738777030</time>', datetime(2025, 2, 5, 17, 37, 10, tzinfo=UTC)),
        ("2017-10-12", datetime(2017, 10, 12, tzinfo=UTC)),
        ("Thu, 12 Oct 2017 11:30:00 -0400", datetime(2017, 10, 12, 15, 30, tzinfo=UTC)),
        ("October 12, 2017 11:30 ET", datetime(2017, 10, 12, 15, 30, tzinfo=UTC)),
        (None, None),
    ],
)
def test_to_utc(value: object, expected: datetime | None) -> None:
    assert to_utc(value) == expected


def test_to_utc_naive_in_default_zone_and_errors() -> None:
    assert to_utc("2017-10-12 11:30", default_tz="America/New_York") == datetime(2017, 10, 12, 15, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a date"):
        to_utc("next Tuesday-ish")


def test_content_hash_ignores_whitespace_only() -> None:
    assert content_hash("T", "a b\n\nc") == content_hash("T ", "a  b c")
    assert content_hash("T", "a b c") != content_hash("T", "a b d")
    assert content_hash("T", "x") != content_hash("U", "x")


def test_normalize_document() -> None:
    doc = normalize_document(
        source="doj_api",
        url="https://www.justice.gov/opa/pr/x?utm_source=a",
        external_id=17,
        title="Justice <em>Department</em> letters",
        html="<p>Body</p>",
        published="1508330100",
        metadata={"components": ["OPA"], "topics": [], "number": None},
    )
    assert doc.url == "https://www.justice.gov/opa/pr/x"
    assert doc.external_id == "17"
    assert doc.title == "Justice Department letters"
    assert doc.body_text == "Body"
    assert dict(doc.metadata) == {"components": ["OPA"]}
    assert doc.doc_type == "other"
    with pytest.raises(ValueError, match="neither a title nor any text"):
        normalize_document(source="s", title=" ", text="")


def _html_to_text_by_html_text(html: str) -> str:
    """``html_to_text`` as it was written before its faster text walk: html_text's ``extract_text`` then
    ``clean_text`` (the reference the faster path must equal, character for character)."""
    import html_text
    import lxml.html
    from lxml import etree

    from lawwatch.pipeline.normalize import _CONTROLS, _DROP_TAGS, clean_text

    if _CONTROLS.search(html):
        html = _CONTROLS.sub("", html)
    if not html.strip():
        return ""
    try:
        tree = lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):
        return clean_text(html)
    for element in tree.xpath("//" + " | //".join(_DROP_TAGS)):
        element.drop_tree()
    return clean_text(html_text.extract_text(tree, guess_layout=True))


_PIECES = [
    "a", "b c", " ", "  ", "\n", "\t", "\u00a0", "\u200b", "\u2003", "\u3000", "\r\n", "\x85", "\u2028", "(", ")",
    "(\n", ",", ".", "!", '"', ";", "x(", "&nbsp;", "&amp;", "&#x200b;", "<p>", "</p>", "<br>", "<div>", "</div>",
    "<span>", "</span>", "<b>", "</b>", "<li>", "<ul>", "</ul>", "<h2>", "</h2>", "<!-- c -->", "<?pi x?>",
    "<script>s</script>", "<style>p{}</style>", "<nav>n</nav>", "<table><tr><td>t</td></tr></table>",
    "<iframe>i</iframe>", "<object>o", "</object>", "<embed>", "<param>", "<applet>a</applet>", "<frame>",
    "<meta x=1>", "<link>", "<title>T</title>", "<pre> p  q </pre>", "<a href=x>l</a>", "<form>f</form>",
    "<template>t</template>", "<blockquote>q</blockquote>", "<hr>", "<dd>", "<dt>", "\x00", "\x1c", "<", ">", "&",
]  # fmt: skip


def test_html_to_text_equals_html_text_extraction() -> None:
    """The faster text walk gives exactly html_text's text: on every example page and on generated fragments that
    mix every whitespace, punctuation rule, layout tag, comment and furniture html_text treats specially."""
    import random
    from pathlib import Path

    pages = [
        path.read_text(encoding="utf-8", errors="replace")
        for path in sorted((Path(__file__).parent / "examples").rglob("*"))
        if path.suffix in (".html", ".htm", ".xml", ".rss", ".json")
    ]
    assert len(pages) >= 20
    rnd = random.Random(15)
    fragments = ["".join(rnd.choice(_PIECES) for _ in range(rnd.randint(1, 25))) for _ in range(3000)]
    differ = [html for html in pages + fragments if html_to_text(html) != _html_to_text_by_html_text(html)]
    assert differ == []
