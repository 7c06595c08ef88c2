"""Web sources: fetch a page or a sitemap politely (robots.txt, timeout, size cap) and keep the main text.

The HTML extractor is small and dependency-free: it keeps headings, paragraphs, list items and tables of the
``<main>``/``<article>`` part when there is one, and drops navigation, headers, footers, scripts and forms.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from quantum_voice.core.config import get_settings
from quantum_voice.core.hosts import host_problem
from quantum_voice.services.knowledge.errors import DocumentRejected, FetchFailed
from quantum_voice.services.knowledge.parsing import (HEADING, TABLE, TEXT, Block, ParsedDocument, SectionTracker,
                                                      table_rows_as_lines)
from quantum_voice.services.knowledge.text import squash_spaces

USER_AGENT = "QuantumVoiceBot/1.0 (knowledge base; +https://quantumvoice.local/bot)"
MAX_REDIRECTS = 5
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_XML_TYPES = ("application/xml", "text/xml", "application/rss+xml")


@dataclass
class FetchedPage:
    url: str
    content_type: str
    body: bytes


class WebFetcher:
    def __init__(self, *, timeout: float, max_bytes: int, allow_private_networks: bool = False,
                 transport: httpx.BaseTransport | None = None):
        self.max_bytes, self.allow_private_networks = max_bytes, allow_private_networks
        self._client = httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT}, transport=transport,
                                    follow_redirects=False)
        self._robots: dict[str, RobotFileParser] = {}

    @classmethod
    def from_settings(cls) -> "WebFetcher":
        settings = get_settings()
        return cls(timeout=settings.knowledge_fetch_timeout_seconds,
                   max_bytes=settings.knowledge_fetch_max_mb * 1024 * 1024,
                   allow_private_networks=settings.knowledge_fetch_allow_private_networks)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "WebFetcher":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def fetch(self, url: str, accept: tuple[str, ...] = _HTML_TYPES) -> FetchedPage:
        """GET ``url`` following up to 5 redirects, each hop allowed by its site's robots.txt."""
        for _ in range(MAX_REDIRECTS + 1):
            self._require_allowed(url)
            response, body = self._download(url)
            if response.is_redirect and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                continue
            _check_status(url, response.status_code)
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type and not content_type.startswith(accept):
                raise DocumentRejected(f"{url} is not a web page ({content_type}). Upload files as documents "
                                       "instead.", code="unsupported_file_type")
            return FetchedPage(url, content_type, body)
        raise DocumentRejected(f"{url} redirects too many times. Add the final address instead.", code="fetch_refused")

    def _download(self, url: str) -> tuple[httpx.Response, bytes]:
        """Status, headers and at most ``max_bytes`` of body; a larger body is refused, not cut."""
        try:
            with self._client.stream("GET", url) as response:
                if int(response.headers.get("content-length") or 0) > self.max_bytes:
                    raise _too_large(url, self.max_bytes)
                body = bytearray()
                for piece in response.iter_bytes():
                    body.extend(piece)
                    if len(body) > self.max_bytes:
                        raise _too_large(url, self.max_bytes)
                return response, bytes(body)
        except httpx.TimeoutException:
            raise FetchFailed(f"{url} did not answer in time. Try again later.") from None
        except httpx.HTTPError as exc:
            raise FetchFailed(f"{url} could not be reached ({type(exc).__name__}). Check the address.") from None

    def _require_allowed(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DocumentRejected(f"{url} is not an http(s) address.", code="fetch_refused")
        if not self.allow_private_networks:
            _require_public_host(parts.hostname, url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            self._robots[origin] = self._load_robots(origin)
        if not self._robots[origin].can_fetch(USER_AGENT, url):
            raise DocumentRejected(f"{origin}/robots.txt does not allow fetching {url}. Ask the site owner, or "
                                   "paste the text into a document and upload it.", code="robots_disallowed")

    def _load_robots(self, origin: str) -> RobotFileParser:
        parser = RobotFileParser(origin + "/robots.txt")
        try:
            response, body = self._download(origin + "/robots.txt")
        except DocumentRejected:  # absurdly large robots.txt: treat as missing
            response, body = None, b""
        if response is not None and response.status_code >= 500:
            raise FetchFailed(f"{origin}/robots.txt answered {response.status_code}; we will try again.")
        # RFC 9309: a missing robots.txt (4xx) allows everything; redirects are not followed here.
        ok = response is not None and response.status_code < 300
        parser.parse(body.decode("utf-8", errors="replace").splitlines() if ok else [])
        return parser

    def page_document(self, url: str) -> ParsedDocument:
        page = self.fetch(url)
        parsed = html_to_document(decode_html(page.body))
        if parsed.text_length < 20:
            raise DocumentRejected(f"{url} has no readable text (it may need JavaScript). Paste its text into a "
                                   "document and upload that.", code="empty_file")
        return parsed

    def sitemap_document(self, url: str, *, max_pages: int) -> ParsedDocument:
        """Every page listed in the sitemap (up to ``max_pages``) as one document, one 'page' per web page."""
        urls = self.sitemap_urls(url, max_pages=max_pages)
        if not urls:
            raise DocumentRejected(f"{url} lists no pages. Check it is a sitemap (sitemap.xml).", code="empty_file")
        blocks: list[Block] = []
        for number, page_url in enumerate(urls, start=1):
            try:
                page = html_to_document(decode_html(self.fetch(page_url).body), prefix=page_url)
            except DocumentRejected:
                continue  # one refused page does not spoil the others
            for block in page.blocks:
                block.page = number
            blocks.extend(page.blocks)
        if not blocks:
            raise DocumentRejected(f"None of the pages in {url} could be read.", code="empty_file")
        return ParsedDocument(blocks, page_count=len(urls))

    def sitemap_urls(self, url: str, *, max_pages: int, depth: int = 0) -> list[str]:
        page = self.fetch(url, accept=_XML_TYPES + _HTML_TYPES + ("text/plain",))
        text = page.body.decode("utf-8", errors="replace")
        locations = [html.unescape(m) for m in re.findall(r"<loc>\s*([^<\s]+)\s*</loc>", text)]
        if "<sitemapindex" in text and depth < 2:
            found: list[str] = []
            for child in locations:
                found.extend(self.sitemap_urls(child, max_pages=max_pages - len(found), depth=depth + 1))
                if len(found) >= max_pages:
                    break
            return found[:max_pages]
        same_site = urlsplit(url).hostname
        return [u for u in dict.fromkeys(locations) if urlsplit(u).hostname == same_site][:max_pages]


def _require_public_host(hostname: str, url: str) -> None:
    """Refuse hosts that resolve to loopback, private, link-local or reserved addresses (server-side request
    forgery: a user must not make the server fetch its own network)."""
    problem = host_problem(hostname)
    if problem == "unknown":
        raise DocumentRejected(f"{url}: the host {hostname} does not exist. Check the address.", code="fetch_refused")
    if problem == "private":
        raise DocumentRejected(f"{url} points to a private network address, which is not allowed. Use a public "
                               "web address.", code="fetch_refused")


def _check_status(url: str, status: int) -> None:
    if status == 429 or status >= 500:
        raise FetchFailed(f"{url} answered {status}; we will try again.")
    if status >= 400:
        raise DocumentRejected(f"{url} answered {status} (not available). Check the address and that the page is "
                               "public.", code="fetch_refused")


def _too_large(url: str, limit: int) -> DocumentRejected:
    return DocumentRejected(f"{url} is larger than {limit // 1048576} MB. Add a smaller page, or upload the content "
                            "as a document.", code="file_too_large")


def decode_html(body: bytes) -> str:
    head = body[:2048].decode("ascii", errors="ignore")
    match = re.search(r"charset=[\"']?([\w-]+)", head, re.IGNORECASE)
    for encoding in ([match.group(1)] if match else []) + ["utf-8"]:
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("cp1252", errors="replace")


# ── HTML to blocks ───────────────────────────────────────────────────────────────────────────────────────────

_SKIP = {"script", "style", "noscript", "template", "svg", "nav", "header", "footer", "aside", "form", "iframe",
         "button", "select", "textarea", "canvas", "dialog"}
_VOID = {"br", "img", "hr", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"}
_BREAKS = {"p", "div", "section", "li", "dd", "dt", "blockquote", "pre", "br", "ul", "ol", "article", "main",
           "figcaption", "address", "hr"}
_SKIP_ROLES = {"navigation", "banner", "contentinfo", "search", "complementary"}


class _MainText(HTMLParser):
    def __init__(self, only_main: bool):
        super().__init__(convert_charrefs=True)
        self.only_main, self.main_depth, self.skip_depth = only_main, 0, 0
        self.tracker, self.blocks, self.buffer = SectionTracker(), [], []
        self.heading_level, self.heading_text = 0, []
        self.title, self.in_title = "", False
        self.rows: list[list[str]] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "title":
            self.in_title = True
        if tag in ("main", "article"):
            self.main_depth += 1
        if tag in _VOID:
            if tag in _BREAKS:
                self._flush()
            return
        if self.skip_depth or tag in _SKIP or attributes.get("role") in _SKIP_ROLES or \
                attributes.get("aria-hidden") == "true":
            self.skip_depth += 1
            return
        if re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self.heading_level, self.heading_text = int(tag[1]), []
        elif tag == "table":
            self._flush()
            self.rows = []
        elif tag == "tr" and self.rows is not None:
            self.rows.append([])
        elif tag in ("td", "th") and self.rows is not None:
            self.cell = []
        elif tag in _BREAKS:
            self._flush()

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if tag in ("main", "article"):
            self.main_depth = max(self.main_depth - 1, 0)
        if tag in _VOID:
            return
        if self.skip_depth:
            self.skip_depth -= 1
            return
        if re.fullmatch(r"h[1-6]", tag) and self.heading_level:
            title = squash_spaces("".join(self.heading_text).replace("\n", " "))
            if title and self._keeping():
                self.tracker.enter(self.heading_level, title)
                self.blocks.append(Block(HEADING, title, None, self.tracker.path, self.heading_level))
            self.heading_level = 0
        elif tag in ("td", "th") and self.cell is not None and self.rows:
            self.rows[-1].append(squash_spaces("".join(self.cell).replace("\n", " ")))
            self.cell = None
        elif tag == "table" and self.rows is not None:
            lines = table_rows_as_lines(self.rows)
            if lines and self._keeping():
                self.blocks.append(Block(TABLE, "\n".join(lines), None, self.tracker.path))
            self.rows = None
        elif tag in _BREAKS:
            self._flush()

    def handle_data(self, data):
        if self.in_title:
            self.title += data
            return
        if self.skip_depth:
            return
        if self.heading_level:
            self.heading_text.append(data)
        elif self.cell is not None:
            self.cell.append(data)
        elif self.rows is None:
            self.buffer.append(data)

    def _keeping(self) -> bool:
        return not self.only_main or self.main_depth > 0

    def _flush(self) -> None:
        text = squash_spaces("".join(self.buffer).replace("\n", " "))
        self.buffer = []
        if text and self._keeping():
            self.blocks.append(Block(TEXT, text, None, self.tracker.path))


def html_to_document(markup: str, prefix: str | None = None) -> ParsedDocument:
    """Main text of an HTML page as blocks; ``prefix`` (a page title or URL) starts every section path."""
    only_main = bool(re.search(r"<(main|article)[\s>]", markup, re.IGNORECASE))
    parser = _MainText(only_main)
    parser.feed(markup)
    parser.close()
    parser._flush()
    title = squash_spaces(parser.title) or None
    if prefix:
        label = title or prefix
        for block in parser.blocks:
            block.section = f"{label} › {block.section}" if block.section else label
    return ParsedDocument(parser.blocks, title=title)
