"""The HTML extractor keeps the main text and drops page furniture."""

from quantum_voice.services.knowledge.parsing import HEADING, TABLE
from quantum_voice.services.knowledge.webpages import html_to_document

PAGE = """<!doctype html><html><head><title>Pricing | Harbor View</title><style>p{color:red}</style>
<script>var tracking = "do not index me";</script></head>
<body><header><nav><a href="/">Home</a> <a href="/about">About us</a></nav></header>
<main><h1>Pricing</h1><p>The Aster model starts at <b>$420,000</b>.<br>Prices include parking.</p>
<h2>Fees</h2><p>The HOA fee is $450 a month.</p>
<table><tr><th>Model</th><th>Price</th></tr><tr><td>Cedar</td><td>$689,000</td></tr></table>
<div aria-hidden="true">Hidden promo</div><form><button>Subscribe</button></form></main>
<footer>© Meridian Homes · Privacy policy</footer></body></html>"""


def test_main_text_headings_and_tables_are_kept_and_furniture_dropped():
    parsed = html_to_document(PAGE)
    everything = " ".join(b.text for b in parsed.blocks)
    assert parsed.title == "Pricing | Harbor View"
    assert [b.text for b in parsed.blocks if b.kind == HEADING] == ["Pricing", "Fees"]
    assert "The Aster model starts at $420,000." in everything and "Prices include parking." in everything
    assert next(b for b in parsed.blocks if b.kind == TABLE).text.splitlines()[1] == "Model: Cedar; Price: $689,000"
    for furniture in ("About us", "tracking", "Meridian Homes", "Subscribe", "Hidden promo", "color:red"):
        assert furniture not in everything
    assert next(b for b in parsed.blocks if "HOA" in b.text).section == "Pricing › Fees"


def test_pages_without_main_keep_the_body_and_a_prefix_labels_sections():
    parsed = html_to_document("<html><title>Tours</title><body><h2>Book</h2><p>Call us to book a tour.</p>"
                              "<footer>x</footer></body></html>", prefix="http://x.test/tours")
    assert [b.text for b in parsed.blocks] == ["Book", "Call us to book a tour."]
    assert parsed.blocks[1].section == "Tours › Book"
