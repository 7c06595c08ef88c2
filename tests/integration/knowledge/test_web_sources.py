"""Web sources, fetched from a real HTTP server on 127.0.0.1: robots.txt, limits, sitemaps, re-crawls."""

import time
from http.server import BaseHTTPRequestHandler

import pytest

from quantum_voice.core.config import reset_settings
from quantum_voice.core.errors import ValidationFailed
from quantum_voice.models.knowledge import DocumentStatus
from quantum_voice.services.knowledge import documents
from quantum_voice.services.knowledge.errors import DocumentRejected, FetchFailed
from quantum_voice.services.knowledge.webpages import WebFetcher
from tests.integration.knowledge.conftest import acting_as, document, new_knowledge_base, new_owner, run_jobs
from tests.local_server import serving

PRICING = b"""<html><head><title>Pricing</title></head><body><nav>Home | Tours</nav><main><h1>Pricing</h1>
<p>The Cedar three-bedroom home starts at $689,000. The HOA fee is $450 a month.</p></main></body></html>"""
TOURS = b"""<html><head><title>Tours</title></head><body><article><h1>Tours</h1>
<p>Tours of the model home run Tuesday to Saturday from 10 am to 6 pm.</p></article></body></html>"""


class Site:
    """Pages by path: (status, content type, body, seconds to wait before answering)."""

    def __init__(self):
        self.pages: dict[str, tuple[int, str, bytes, float]] = {}
        self.redirects: dict[str, str] = {}
        self.hits: list[str] = []

    def page(self, path: str, body: bytes, status: int = 200, content_type: str = "text/html", delay: float = 0):
        self.pages[path] = (status, content_type, body, delay)


@pytest.fixture
def site(monkeypatch):
    monkeypatch.setenv("KNOWLEDGE_FETCH_ALLOW_PRIVATE_NETWORKS", "true")  # the test site lives on 127.0.0.1
    reset_settings()
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state.hits.append(self.path)
            if self.path in state.redirects:
                self.send_response(301)
                self.send_header("Location", state.redirects[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status, content_type, body, delay = state.pages.get(self.path, (404, "text/plain", b"not found", 0))
            time.sleep(delay)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *_):
            pass

    with serving(Handler) as state.url:
        state.page("/robots.txt", b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        state.page("/pricing", PRICING)
        state.page("/tours", TOURS)
        yield state


def add_source(owner: int, kb: int, url: str, sitemap: bool = False) -> int:
    with acting_as(owner) as repo:
        return documents.add_web_source(repo, kb, url, sitemap=sitemap).id


def test_a_page_is_fetched_in_the_background_and_named_after_its_title(engine, site):
    owner = new_owner()
    kb = new_knowledge_base(owner)
    doc_id = add_source(owner, kb, site.url + "/pricing")
    assert site.hits == []  # nothing is fetched in the request
    run_jobs()
    page = document(doc_id)
    assert page.status == DocumentStatus.READY and page.name == "Pricing" and page.source_type == "url"
    assert page.source_url == site.url + "/pricing" and "/robots.txt" in site.hits


def test_robots_txt_is_respected(engine, site):
    site.page("/private/prices", PRICING)
    owner = new_owner()
    doc_id = add_source(owner, new_knowledge_base(owner), site.url + "/private/prices")
    run_jobs()
    refused = document(doc_id)
    assert refused.status == DocumentStatus.FAILED and "robots.txt" in refused.error
    assert "/private/prices" not in site.hits


def test_a_sitemap_is_crawled_up_to_the_page_limit(engine, site, monkeypatch):
    monkeypatch.setenv("KNOWLEDGE_SITEMAP_MAX_PAGES", "2")
    reset_settings()
    site.page("/sitemap.xml", f"""<?xml version="1.0"?><urlset>
        <url><loc>{site.url}/pricing</loc></url><url><loc>{site.url}/tours</loc></url>
        <url><loc>{site.url}/never-fetched</loc></url>
        <url><loc>http://elsewhere.test/x</loc></url></urlset>""".encode(),
              content_type="application/xml")
    owner = new_owner()
    doc_id = add_source(owner, new_knowledge_base(owner), site.url + "/sitemap.xml", sitemap=True)
    run_jobs()
    crawled = document(doc_id)
    assert crawled.status == DocumentStatus.READY and crawled.page_count == 2
    assert "/never-fetched" not in site.hits


def test_missing_pages_fail_and_server_errors_are_retried(engine, site):
    owner = new_owner()
    kb = new_knowledge_base(owner)
    missing = add_source(owner, kb, site.url + "/gone")
    site.page("/flaky", b"oops", status=503)
    flaky = add_source(owner, kb, site.url + "/flaky")
    run_jobs()
    assert document(missing).status == DocumentStatus.FAILED and "404" in document(missing).error
    assert document(flaky).status == DocumentStatus.FAILED and document(flaky).attempts == 3
    assert site.hits.count("/flaky") == 3


def test_re_crawl_on_demand_picks_up_changes(engine, site):
    owner = new_owner()
    doc_id = add_source(owner, new_knowledge_base(owner), site.url + "/tours")
    run_jobs()
    site.page("/tours", TOURS.replace(b"Tuesday to Saturday", b"every day"))
    with acting_as(owner) as repo:
        documents.reprocess_document(repo, doc_id)
        chunks_before = [c.text for c in documents.chunks_of(repo, doc_id)]
    run_jobs()
    with acting_as(owner) as repo:
        chunks_after = [c.text for c in documents.chunks_of(repo, doc_id)]
    assert any("Tuesday" in t for t in chunks_before) and any("every day" in t for t in chunks_after)


def test_size_cap_timeout_and_content_type(site):
    site.page("/huge", b"<p>" + b"x" * 300_000 + b"</p>")
    site.page("/slow", PRICING, delay=1.5)
    site.page("/file.pdf", b"%PDF-1.7", content_type="application/pdf")
    with WebFetcher(timeout=0.5, max_bytes=100_000, allow_private_networks=True) as fetcher:
        with pytest.raises(DocumentRejected, match="larger than"):
            fetcher.fetch(site.url + "/huge")
        with pytest.raises(FetchFailed, match="did not answer in time"):
            fetcher.fetch(site.url + "/slow")
        with pytest.raises(DocumentRejected, match="not a web page"):
            fetcher.fetch(site.url + "/file.pdf")


def test_redirects_are_followed_and_each_hop_is_checked_against_robots(site):
    site.redirects["/old-pricing"] = "/pricing"
    site.redirects["/sneaky"] = "/private/prices"
    site.page("/private/prices", PRICING)
    with WebFetcher(timeout=2, max_bytes=100_000, allow_private_networks=True) as fetcher:
        assert fetcher.fetch(site.url + "/old-pricing").url == site.url + "/pricing"
        with pytest.raises(DocumentRejected, match="robots.txt"):
            fetcher.fetch(site.url + "/sneaky")
    assert "/private/prices" not in site.hits


def test_only_http_addresses_are_accepted(engine):
    owner = new_owner()
    kb = new_knowledge_base(owner)
    for bad in ("ftp://example.com/file", "file:///etc/passwd", "not a url"):
        with pytest.raises(ValidationFailed):
            add_source(owner, kb, bad)


def test_private_network_addresses_are_refused_by_default(site):
    with WebFetcher(timeout=2, max_bytes=100_000) as fetcher:
        for url in (site.url + "/pricing", "http://localhost/", "http://169.254.169.254/latest/meta-data/"):
            with pytest.raises(DocumentRejected, match="private network"):
                fetcher.fetch(url)
    assert site.hits == []
