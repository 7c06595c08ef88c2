"""The demo owner builds a knowledge base in Chromium: creates it, uploads a file, tests a question, adds a Q&A pair."""

import re

import pytest
from sqlmodel import Session, select

from quantum_voice.core.db import make_engine
from quantum_voice.models.knowledge import KnowledgeBase, KnowledgeQuery
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

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
