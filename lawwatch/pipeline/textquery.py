"""The full-text query language of search and of ``DocumentFilter.query``: parsing, the FTS5 form, and a matcher.

Query syntax (the same on both backends)::

    sanctuary city          both words (words are ANDed)
    "sanctuary city"        the exact phrase
    chicago OR cook         either word (OR in capitals; binds tighter than the implicit AND)
    sanctuary -texas        without "texas"; -"cook county" excludes a phrase
    sanct*                  a prefix (words are stemmed, so keep prefixes short: ``immigra*`` misses
                            "immigration", whose stem is "immigr")

A malformed query (an unbalanced ``"``, a dangling ``OR``, only exclusions) raises ``QueryError``; an empty or
blank query parses to ``ParsedQuery.empty``. ``to_fts5`` and ``to_tsquery_sql`` render a parsed query for SQLite FTS5
and PostgreSQL; how search runs them is in ``pipeline/search.py``.

PostgreSQL's own ``websearch_to_tsquery`` reads a similar syntax but not this one: it has no prefixes (``sanct*``
is the word ``sanct``) and its ``OR`` binds looser than the implicit AND (``sanctuary city OR county`` is
``sanctuari & (citi | counti)`` here, ``(sanctuari & citi) | counti`` there, as PostgreSQL 15 answers); so each
term stays its own bound ``plainto_tsquery``/``phraseto_tsquery``.

``text_matches(parsed, title, body)`` answers "would this document match" without an archive: it indexes the one
document in an in-memory SQLite FTS5 table built exactly like the archive's (``FTS5_TOKENIZE``: Porter stemming
over ``unicode61``, case and accents ignored) and runs the same ``to_fts5`` expression, so its answer is the one
search gives on a SQLite archive, stemming included. On PostgreSQL, search can differ in the documented ways:
English stop words ("the", "of") are ignored there, tokens with inner punctuation (``U.S.C.``) stay whole, its
Snowball stemmer differs from Porter on a few words, and a phrase may run from the end of the title into the body.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

from lawwatch.errors import QueryError, shown

FTS5_TOKENIZE = "porter unicode61 remove_diacritics 2"  # as in the archive's documents_fts (migration 0001)
_WORD_CHARS = re.compile(r"[^\W_]+")
_WORD = re.compile(r'[^\s"]+')
# Longer queries are refused: PostgreSQL builds one tsquery node per word (5,000 words overflow its stack) and
# SQLite's phrase matching slows with the phrase's length; no one types 256 words.
MAX_QUERY_WORDS = 256
MAX_QUERY_BYTES = 4096


@dataclass(frozen=True)
class Term:
    text: str
    phrase: bool = False
    prefix: bool = False

    @property
    def tokens(self) -> list[str]:
        return [t.lower() for t in _WORD_CHARS.findall(self.text)]


@dataclass(frozen=True)
class ParsedQuery:
    groups: tuple[tuple[Term, ...], ...]  # an AND of ORs
    excluded: tuple[Term, ...]

    @property
    def empty(self) -> bool:
        return not self.groups


def parse_query(query: str) -> ParsedQuery:
    """Parse the user query syntax (see the module docstring); raise ``QueryError`` when it is malformed or longer
    than ``MAX_QUERY_WORDS`` words or ``MAX_QUERY_BYTES`` bytes of UTF-8."""
    size, words = len(query.encode("utf-8", errors="replace")), len(query.split())
    if size > MAX_QUERY_BYTES or words > MAX_QUERY_WORDS:
        raise QueryError(
            f"query too long ({words} words, {size} bytes; at most {MAX_QUERY_WORDS} words and {MAX_QUERY_BYTES} "
            f"bytes): {shown(query)}"
        )
    items: list[tuple[str, Term | None]] = []  # ("or", None) | ("pos", term) | ("neg", term)
    pos, n = 0, len(query)
    while pos < n:
        ch = query[pos]
        if ch.isspace():
            pos += 1
            continue
        negated = ch == "-" and pos + 1 < n and not query[pos + 1].isspace()
        start = pos + 1 if negated else pos
        if query[start] == '"':
            end = query.find('"', start + 1)
            if end < 0:
                raise QueryError(f'unbalanced double quote in query {shown(query)}: close the phrase with "')
            prefix = end + 1 < n and query[end + 1] == "*"
            term = Term(query[start + 1 : end], phrase=True, prefix=prefix)
            pos = end + 2 if prefix else end + 1
        else:
            match = _WORD.match(query, start)
            assert match is not None
            word, pos = match.group(), match.end()
            if word == "OR" and not negated:
                items.append(("or", None))
                continue
            stripped = word.rstrip("*")
            term = Term(stripped, prefix=stripped != word)
        if term.tokens:
            items.append(("neg" if negated else "pos", term))
    return _group(items, query)


def _group(items: list[tuple[str, Term | None]], query: str) -> ParsedQuery:
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    pending_or = False
    for index, (kind, term) in enumerate(items):
        if kind == "or":
            before = items[index - 1][0] if index else None
            after = items[index + 1][0] if index + 1 < len(items) else None
            if before != "pos" or after != "pos":
                raise QueryError(f"OR must stand between two search words or phrases in {shown(query)}")
            pending_or = True
        elif kind == "neg":
            assert term is not None
            excluded.append(term)
        else:
            assert term is not None
            if pending_or:
                groups[-1].append(term)
            else:
                groups.append([term])
            pending_or = False
    if excluded and not groups:
        raise QueryError(f"query {shown(query)} only excludes words: add a word or phrase to search for")
    if not groups and query.strip():
        raise QueryError(f"query {shown(query)} has no searchable words")
    return ParsedQuery(tuple(tuple(g) for g in groups), tuple(excluded))


# --- SQLite FTS5 --------------------------------------------------------------------------------------------


def _fts5_term(term: Term) -> str:
    quoted = '"' + term.text.replace('"', '""') + '"'
    return quoted + "*" if term.prefix else quoted


def to_fts5(parsed: ParsedQuery) -> str:
    """The FTS5 MATCH expression for ``parsed``; every term is a quoted string, so it cannot inject syntax."""
    ands = []
    for group in parsed.groups:
        terms = [_fts5_term(t) for t in group]
        ands.append(terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")")
    expr = " AND ".join(ands)
    if parsed.excluded:
        expr = f"({expr}) NOT (" + " OR ".join(_fts5_term(t) for t in parsed.excluded) + ")"
    return expr


# --- PostgreSQL tsquery ---------------------------------------------------------------------------------------


def to_tsquery_sql(parsed: ParsedQuery, *, loose: bool = False) -> tuple[str, dict[str, Any]]:
    """A SQL expression building the tsquery for ``parsed`` from bound parameters, and those parameters (every term
    is a parameter of ``plainto_tsquery``/``phraseto_tsquery``, so user text is never tsquery syntax).

    ``loose``: each phrase of the query as its words in any order (``plainto_tsquery``), excluded terms as they are:
    a query matching every document ``parsed`` matches and maybe more, which the GIN index answers without reading
    any document's positions. The parameters are the same either way."""
    params: dict[str, Any] = {}

    def term_sql(term: Term, exact: bool) -> str:
        name = f"t{len(params)}"
        if term.prefix:
            tokens = term.tokens
            params[name] = " <-> ".join(tokens[:-1] + [tokens[-1] + ":*"])
            return f"to_tsquery('english', :{name})"
        params[name] = term.text
        phrase = (term.phrase or len(term.tokens) > 1) and exact
        return f"{'phraseto_tsquery' if phrase else 'plainto_tsquery'}('english', :{name})"

    ands = []
    for group in parsed.groups:
        terms = [term_sql(t, not loose) for t in group]
        ands.append(terms[0] if len(terms) == 1 else "(" + " || ".join(terms) + ")")
    expr = " && ".join(ands)
    for term in parsed.excluded:
        expr = f"({expr}) && !!{term_sql(term, True)}"
    return expr, params


# --- matching one document in memory ------------------------------------------------------------------------

_local = threading.local()


def _matcher() -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(":memory:")
        conn.execute(f"CREATE VIRTUAL TABLE doc USING fts5(title, body_text, tokenize='{FTS5_TOKENIZE}')")
        _local.conn = conn
    return conn


def text_matches(parsed: ParsedQuery, title: str | None, body: str | None) -> bool:
    """Whether a document with this title and body matches ``parsed``, as search on a SQLite archive answers.

    An empty query matches everything. Each thread keeps one in-memory FTS5 table; the document is inserted and
    rolled back, so nothing is kept between calls."""
    if parsed.empty:
        return True
    conn = _matcher()
    try:
        conn.execute("INSERT INTO doc(rowid, title, body_text) VALUES (1, ?, ?)", (title or "", body or ""))
        found = conn.execute("SELECT 1 FROM doc WHERE doc MATCH ?", (to_fts5(parsed),)).fetchone()
    except sqlite3.Error as exc:
        raise QueryError(f"cannot run query: {exc}") from None
    finally:
        conn.rollback()
    return found is not None
