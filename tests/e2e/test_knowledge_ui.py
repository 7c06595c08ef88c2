"""The demo owner works on knowledge bases in Chromium: creates one, uploads a file, tests a question, adds a Q&A
pair; renames one, sorts and pages through its documents, and deletes it."""

import re

import httpx
from playwright.sync_api import expect
from sqlmodel import Session, select

from quantum_voice.core.db import make_engine
from quantum_voice.models.knowledge import KnowledgeBase, KnowledgeQuery
from tests.e2e.conftest import ARTIFACTS


BROCHURE = (
    "# Harbor View Residences\n\n## Fees\n\n"
    "The monthly HOA fee for a 3-bedroom home is 410 dollars and covers water, the gym and the rooftop pool.\n\n"
    "## Parking\n\nEvery home comes with one underground parking space; a second space costs 95 dollars a month.\n"
)
PROCESSING_TIMEOUT_MS = 150_000  # the first job loads the embedding model


def _sign_in_as_demo_owner(live_app, page):
    page.goto(live_app.url + "/login")
    page.fill("#login-email", "demo@example.com")
    page.fill("#login-password", "demo-password-123")
    page.click("#login-submit")
    page.wait_for_url(re.compile(r".*/dashboard"))


def test_owner_uploads_a_document_tests_a_question_and_adds_a_qna_pair(live_app, page):
    _sign_in_as_demo_owner(live_app, page)
    page.get_by_role("link", name="Knowledge").first.click()
    page.wait_for_selector("#kb-title")

    page.fill("#kb-create-name", "UI brochure")
    page.click("#kb-create-submit")
    page.wait_for_function("document.querySelector('#kb-select')?.selectedOptions[0]?.text === 'UI brochure'")
    assert "No documents yet" in page.inner_text("#kb-documents-section")

    page.click("#kb-open-upload")
    page.wait_for_url(re.compile(r".*/knowledge/upload"))
    page.wait_for_selector("#kb-upload")
    page.set_input_files("#kb-upload input[type=file]",
                         files=[{"name": "brochure.md", "mimeType": "text/markdown", "buffer": BROCHURE.encode()}])
    page.click("#kb-upload-submit")
    page.wait_for_selector(".kb-upload-row[data-status='ready']", timeout=PROCESSING_TIMEOUT_MS)
    assert "brochure.md" in page.inner_text("#kb-upload-progress")

    # The same file again is refused with the service's reason, shown beside the file.
    page.set_input_files("#kb-upload input[type=file]",
                         files=[{"name": "copy.md", "mimeType": "text/markdown", "buffer": BROCHURE.encode()}])
    page.click("#kb-upload-submit")
    page.wait_for_selector(".kb-upload-row[data-status='failed']")
    assert "already in the knowledge base" in page.inner_text("#kb-upload-progress")
    page.screenshot(path=str(ARTIFACTS / "knowledge-upload-1280.png"), full_page=True)

    page.click("#kb-view-documents")
    page.wait_for_selector("#kb-documents .kb-document-row[data-status='ready']")
    row = page.inner_text("#kb-documents")
    assert "brochure.md" in row and "Markdown" in row

    page.fill("#kb-test-input", "How much is the HOA fee?")
    page.click("#kb-test-submit")
    page.wait_for_selector("#kb-test-answer")
    answer = page.inner_text("#kb-test-answer")
    assert "410" in answer and "Answered" in answer
    assert "brochure.md" in answer

    page.fill("#qna-question", "Do you allow pets?")
    page.fill("#qna-answer", "Yes, up to two pets per home.")
    page.click("#qna-submit")
    page.wait_for_selector("#qna-list >> text=Do you allow pets?")
    assert "Yes, up to two pets per home." in page.inner_text("#qna-list")

    page.fill("#kb-test-input", "Do you allow pets?")
    page.click("#kb-test-submit")
    page.wait_for_selector("#kb-test-answer >> text=Yes, up to two pets per home.")


    # A caller question that went unanswered becomes a Q&A pair in one click. Owners' tests are not logged.
    _log_unanswered_caller_question(live_app, "UI brochure", "Is there a concierge?")
    page.reload()
    page.wait_for_selector("#kb-unanswered >> text=Is there a concierge?")
    assert "Do you allow pets?" not in page.inner_text("#kb-analytics")
    page.get_by_role("button", name="Write a Q&A pair for Is there a concierge?").click()
    page.wait_for_function("document.querySelector('#qna-question')?.value === 'Is there a concierge?'")
    page.fill("#qna-answer", "Yes, the front desk is staffed from 7 am to 11 pm.")
    page.click("#qna-submit")
    page.wait_for_selector("#qna-list >> text=From a caller question")
    page.wait_for_selector("#kb-unanswered >> text=Every caller question found an answer.")

    page.screenshot(path=str(ARTIFACTS / "knowledge-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "knowledge-390.png"), full_page=True)


def _log_unanswered_caller_question(live_app, base_name: str, question: str) -> None:
    engine = make_engine(live_app.database_url)
    with Session(engine) as session:
        kb = session.exec(select(KnowledgeBase).where(KnowledgeBase.name == base_name)).one()
        session.add(KnowledgeQuery(organization_id=kb.organization_id, knowledge_base_id=kb.id, query=question,
                                   answered=False, confidence=0.12))
        session.commit()
    engine.dispose()


def _demo_api(live_app) -> httpx.Client:
    api = httpx.Client(base_url=live_app.url, timeout=30)
    token = api.post("/api/auth/login", json={"email": "demo@example.com",
                                              "password": "demo-password-123"}).json()["token"]
    api.headers["Authorization"] = f"Bearer {token}"
    return api


def _paged_base(api: httpx.Client) -> int:
    """A base with 27 tiny notes (note-01 the smallest, note-27 the largest) that a campaign answers from."""
    kb = api.post("/api/knowledge/bases", json={"name": "E2E paged"}).json()["id"]
    assert api.post("/api/knowledge/bases", json={"name": "E2E other"}).status_code == 201
    for i in range(1, 28):
        text = f"Note {i} about the residences. " + "More detail. " * i
        response = api.post("/api/knowledge/upload", data={"knowledge_base_id": str(kb)},
                            files={"file": (f"note-{i:02d}.txt", text.encode(), "text/plain")})
        assert response.status_code == 202, response.text
    campaign = api.post("/api/campaigns", json={"name": "Harbor View price line", "knowledge_base_id": kb})
    assert campaign.status_code == 201, campaign.text
    return kb


def test_owner_renames_sorts_pages_and_deletes_a_knowledge_base(live_app, page):
    api = _demo_api(live_app)
    kb = _paged_base(api)
    _sign_in_as_demo_owner(live_app, page)
    page.goto(live_app.url + "/knowledge")
    page.wait_for_selector("#kb-select")
    page.select_option("#kb-select", label="E2E paged")
    names = page.locator("#kb-documents .kb-document-name")
    expect(page.locator("#kb-documents-range")).to_have_text("1–25 of 27")
    expect(names).to_have_count(25)
    expect(names.first).to_have_text("note-27.txt")  # newest first
    expect(page.locator("#kb-documents-previous")).to_be_disabled()

    page.click("#kb-sort-name")
    expect(names.first).to_have_text("note-01.txt")
    expect(names.last).to_have_text("note-25.txt")
    page.click("#kb-documents-next")
    expect(page.locator("#kb-documents-range")).to_have_text("26–27 of 27")
    expect(names).to_have_text(["note-26.txt", "note-27.txt"])
    expect(page.locator("#kb-documents-next")).to_be_disabled()
    page.click("#kb-sort-name")  # the other way round, from the first page again
    expect(page.locator("#kb-documents-range")).to_have_text("1–25 of 27")
    expect(names.first).to_have_text("note-27.txt")
    page.click("#kb-sort-size")  # largest first
    expect(names.first).to_have_text("note-27.txt")
    page.click("#kb-sort-size")
    expect(names.first).to_have_text("note-01.txt")
    expect(page.locator("#kb-sort-size").locator("xpath=..")).to_have_attribute("aria-sort", "ascending")
    page.screenshot(path=str(ARTIFACTS / "knowledge-documents-sorted-1280.png"), full_page=True)

    # Rename: a clash is refused beside the field, in the dialog; then a free name is saved.
    page.click("#kb-rename-open")
    expect(page.locator("#kb-rename-name")).to_have_value("E2E paged")
    page.fill("#kb-rename-name", "e2e OTHER")
    page.click("#kb-rename-submit")
    expect(page.locator("#rename_name-error")).to_contain_text("already exists")
    page.screenshot(path=str(ARTIFACTS / "knowledge-rename-1280.png"))
    expect(page.locator("#name-error")).to_have_count(0)  # not under the create form
    page.fill("#kb-rename-name", "E2E price lists")
    page.fill("#kb-rename-description", "Prices per floor plan.")
    page.click("#kb-rename-submit")
    expect(page.locator("#kb-rename-name")).to_have_count(0)
    expect(page.locator("#kb-select option:checked")).to_have_text("E2E price lists")
    saved = api.get(f"/api/knowledge/bases/{kb}").json()
    assert (saved["name"], saved["description"]) == ("E2E price lists", "Prices per floor plan.")

    # Delete: the confirmation says what goes and which campaign loses its knowledge base.
    page.click("#kb-delete-open")
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("27 documents")
    expect(dialog).to_contain_text("“Harbor View price line”")
    page.screenshot(path=str(ARTIFACTS / "knowledge-delete-confirm-1280.png"))
    page.click("#confirm-action")
    expect(page.locator("#kb-select option", has_text="E2E price lists")).to_have_count(0)
    assert api.get(f"/api/knowledge/bases/{kb}").status_code == 404
    page.screenshot(path=str(ARTIFACTS / "knowledge-after-delete-1280.png"), full_page=True)


def test_upload_shows_each_files_bytes_before_processing(live_app, page):
    _sign_in_as_demo_owner(live_app, page)
    api = _demo_api(live_app)
    assert api.post("/api/knowledge/bases", json={"name": "E2E slow link"}).status_code == 201
    page.goto(live_app.url + "/knowledge/upload")
    page.wait_for_selector("#kb-upload")
    page.select_option("#kb-select", label="E2E slow link")
    # A slow uplink, so the bytes take a few seconds to travel.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": 16 * 1024})
    files = [{"name": f"slow-{n}.txt", "mimeType": "text/plain",
              "buffer": (f"Slow file {n}. " + "Walk to the harbour. " * 1200 * n).encode()} for n in (1, 2)]
    page.set_input_files("#kb-upload input[type=file]", files=files)
    page.click("#kb-upload-submit")
    page.wait_for_selector("#kb-upload-bytes")
    rows = page.locator(".kb-upload-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-status", "uploading")
    expect(rows.first.get_by_role("progressbar")).to_be_visible()
    # Files go in order: the first is sent in full while the second is still on its way.
    page.wait_for_function("""() => {
        const bars = [...document.querySelectorAll('.kb-upload-row [role=progressbar]')];
        return bars.length === 2 && Number(bars[0].getAttribute('aria-valuenow')) === 100
            && Number(bars[1].getAttribute('aria-valuenow')) < 100;
    }""", timeout=20_000)
    page.screenshot(path=str(ARTIFACTS / "knowledge-upload-bytes-1280.png"), full_page=True)
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": -1})
    expect(page.locator(".kb-upload-row[data-status='uploading']")).to_have_count(0, timeout=30_000)
    expect(page.locator("#kb-upload-bytes")).to_have_count(0)
    assert "slow-1.txt" in page.inner_text("#kb-upload-progress")
