"""/knowledge: the organisation's knowledge bases, their documents, Q&A pairs, a test panel and analytics."""

import reflex as rx

from quantum_voice.components.forms import NATIVE_SELECT_STYLE, field, field_error, form_alert
from quantum_voice.components.knowledge import base_picker, confirm_dialog, section, status_badge
from quantum_voice.components.layout import app_layout, page_header
from quantum_voice.components.listing import icon_bubble
from quantum_voice.states.knowledge.asking import AskState as Ask, SourceRow
from quantum_voice.states.knowledge.bases import RENAME_NAME, BasesState as Bases
from quantum_voice.states.knowledge.documents import DocumentsState as Docs
from quantum_voice.states.knowledge.qna import QnARow, QnAState as QnA
from quantum_voice.states.knowledge.questions import CallerQuestionsState as Questions, QuestionRow
from quantum_voice.states.knowledge.root import DocumentRow, KnowledgeState as S

WIDE_ONLY = ["none", "none", "table-cell"]
PHONE_ONLY = ["flex", "flex", "none"]


# ---------------------------------------------------------------- knowledge bases

def create_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.flex(
                rx.input(id="kb-create-name", name="name", placeholder="e.g. Brochures and FAQ", required=True,
                         aria_label="New knowledge base name", size="2", flex="1", min_width="0"),
                rx.button(rx.icon("plus", size=16), "Create", id="kb-create-submit", type="submit", size="2"),
                spacing="2", width="100%",
            ),
            field_error(S, "name"),
            spacing="1", width="100%",
        ),
        on_submit=Bases.create_base, reset_on_submit=False, width="100%", max_width=["100%", "380px"],
    )


def base_actions() -> rx.Component:
    return rx.hstack(
        rx.icon_button(rx.icon("pencil", size=14), size="2", variant="soft", color_scheme="gray", id="kb-rename-open",
                       on_click=Bases.open_rename, aria_label="Rename knowledge base", title="Rename"),
        rx.icon_button(rx.icon("trash-2", size=14), size="2", variant="soft", color_scheme="red", id="kb-delete-open",
                       on_click=Bases.ask_delete_base, aria_label="Delete knowledge base", title="Delete"),
        spacing="2", flex_shrink="0",
    )


def rename_dialog() -> rx.Component:
    # Uncontrolled fields: the dialog's content mounts on opening, so they start from the current name.
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Rename knowledge base"),
            rx.dialog.description("Campaigns that use it keep using it under the new name.", size="2",
                                  margin_bottom="16px"),
            rx.form(
                rx.vstack(
                    field("Name", rx.input(id="kb-rename-name", name="name", default_value=S.kb_name, required=True,
                                           max_length=200, size="3", width="100%", auto_focus=True),
                          id="kb-rename-name", state=S, name=RENAME_NAME),
                    field("Description", rx.text_area(id="kb-rename-description", name="description",
                                                      default_value=S.kb_description, rows="3", max_length=2000,
                                                      width="100%"),
                          id="kb-rename-description", hint="Optional: what is in it, for your team."),
                    rx.flex(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Save", id="kb-rename-submit", type="submit"),
                        spacing="3", justify="end", width="100%",
                    ),
                    spacing="4", width="100%",
                ),
                on_submit=Bases.rename_base, reset_on_submit=False, width="100%",
            ),
            max_width="460px",
        ),
        open=Bases.rename_open, on_open_change=Bases.set_rename_open,
    )


def bases_bar() -> rx.Component:
    return rx.flex(
        # The picker's own width (label + a 320px select), so rename and delete sit right beside it.
        rx.hstack(rx.box(base_picker(), flex="0 1 460px", min_width="0"), rx.cond(S.can_edit, base_actions()),
                  align="center", spacing="2", flex=rx.breakpoints(initial="none", sm="1"), min_width="0",
                  width="100%"),
        rx.cond(S.can_edit, create_form()),
        spacing="3", width="100%", align="center", direction=rx.breakpoints(initial="column", sm="row"),
    )


def empty_state() -> rx.Component:
    return rx.card(
        rx.vstack(
            icon_bubble("book-open"),
            rx.heading("No knowledge base yet", size="4"),
            rx.text("A knowledge base holds the brochures, price lists and FAQs your AI agent answers callers "
                    "from, with the source behind every answer. Create one, then upload its documents.",
                    size="2", color_scheme="gray", max_width="560px"),
            rx.cond(S.can_edit, create_form(),
                    rx.text("Ask an owner, admin or manager to create one.", size="2", color_scheme="gray")),
            spacing="3", align="start", width="100%",
        ),
        size="3", width="100%", id="kb-empty",
    )


# ---------------------------------------------------------------- documents

def document_actions(doc: DocumentRow) -> rx.Component:
    return rx.hstack(
        rx.icon_button(rx.icon("refresh-cw", size=14), size="1", variant="ghost", color_scheme="gray",
                       disabled=doc.processing, on_click=Docs.reprocess(doc.id), aria_label="Reprocess " + doc.name,
                       title="Reprocess"),
        rx.icon_button(rx.icon("trash-2", size=14), size="1", variant="ghost", color_scheme="red",
                       on_click=Docs.ask_delete_document(doc.id, doc.name), aria_label="Delete " + doc.name,
                       title="Delete"),
        spacing="3", justify="end",
    )


def document_row(doc: DocumentRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(
            rx.text(doc.name, weight="medium", word_break="break-all", class_name="kb-document-name"),
            rx.text(doc.kind, " · ", doc.size,
                    rx.cond(doc.chunks > 0, " · " + doc.chunks.to_string() + " chunk", ""),
                    rx.cond(doc.chunks > 1, "s", ""), size="1", color_scheme="gray", display=PHONE_ONLY),
            rx.cond(doc.error != "", rx.text(doc.error, size="1", color_scheme="red", role="alert")),
            spacing="1", align="start",
        )),
        rx.table.cell(doc.kind, display=WIDE_ONLY),
        rx.table.cell(doc.size, white_space="nowrap", display=WIDE_ONLY),
        rx.table.cell(status_badge(doc.status, doc.progress)),
        rx.table.cell(doc.chunks, display=WIDE_ONLY),
        rx.table.cell(doc.added, white_space="nowrap", display=WIDE_ONLY),
        rx.cond(S.can_edit, rx.table.cell(document_actions(doc))),
        align="center", class_name="kb-document-row", custom_attrs={"data-status": doc.status},
    )


def sort_header(label: str, column: str, **props) -> rx.Component:
    """A column header that sorts the documents by ``column``; a second click turns the order round."""
    active = Docs.sort_by == column
    arrow = rx.cond(active, rx.cond(Docs.sort_desc, rx.icon("arrow-down", size=12), rx.icon("arrow-up", size=12)))
    return rx.table.column_header_cell(
        rx.button(label, arrow, variant="ghost", color_scheme="gray", size="2", high_contrast=True,
                  font_weight="bold", on_click=Docs.sort(column), id=f"kb-sort-{column}",
                  aria_label=f"Sort by {column}"),
        aria_sort=rx.cond(active, rx.cond(Docs.sort_desc, "descending", "ascending"), "none"),
        **props,
    )


def documents_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(
                sort_header("Document", "name"),
                rx.table.column_header_cell("Type", display=WIDE_ONLY),
                sort_header("Size", "size", display=WIDE_ONLY),
                sort_header("Status", "status"),
                rx.table.column_header_cell("Chunks", display=WIDE_ONLY),
                sort_header("Added (UTC)", "added", display=WIDE_ONLY),
                rx.cond(S.can_edit, rx.table.column_header_cell("")),
            )),
            rx.table.body(rx.foreach(Docs.visible_documents, document_row)),
            variant="surface", size="2", width="100%",
        ),
        overflow_x="auto", width="100%", id="kb-documents",
    )


def documents_pager() -> rx.Component:
    return rx.hstack(
        rx.text(Docs.documents_range, size="1", color_scheme="gray", id="kb-documents-range", aria_live="polite"),
        rx.icon_button(rx.icon("chevron-left", size=14), size="1", variant="soft", id="kb-documents-previous",
                       on_click=Docs.previous_page, disabled=Docs.page == 0, aria_label="Previous page"),
        rx.icon_button(rx.icon("chevron-right", size=14), size="1", variant="soft", id="kb-documents-next",
                       on_click=Docs.next_page, disabled=Docs.page >= Docs.page_count - 1, aria_label="Next page"),
        justify="end", align="center", spacing="2", width="100%",
    )


def web_source_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.flex(
                rx.input(id="kb-source-url", name="url", type="url", placeholder="https://example.com/pricing",
                         aria_label="Web page address", size="2", flex="1 1 260px", min_width="0"),
                rx.el.select(rx.el.option("Single page", value="page"), rx.el.option("Sitemap", value="sitemap"),
                             name="kind", id="kb-source-kind", aria_label="Kind of web source",
                             style={**NATIVE_SELECT_STYLE, "width": "140px"}),
                rx.button(rx.icon("globe", size=16), "Add web page", id="kb-source-submit", type="submit", size="2",
                          variant="soft"),
                spacing="2", width="100%", wrap="wrap",
            ),
            field_error(S, "url"),
            spacing="1", width="100%",
        ),
        on_submit=Docs.add_web_source, width="100%",
    )


def documents_section() -> rx.Component:
    upload = rx.cond(S.can_edit, rx.button(
        rx.link(rx.icon("upload", size=16), "Upload files", href="/knowledge/upload", underline="none",
                id="kb-open-upload"), as_child=True, size="2"))
    return section(
        "Documents", "What the agent has read. Processing runs in the background; this list updates itself.",
        rx.cond(Docs.document_count > 0, rx.vstack(documents_table(), documents_pager(), spacing="2", width="100%"),
                rx.text("No documents yet. Upload your brochure, price list or FAQ, or add a web page.", size="2",
                        color_scheme="gray", id="kb-documents-empty")),
        rx.cond(S.can_edit, web_source_form()),
        action=upload, id="kb-documents-section",
    )


# ---------------------------------------------------------------- test a question

def source_item(source: SourceRow) -> rx.Component:
    return rx.hstack(
        rx.icon("file-text", size=14, color="var(--gray-10)"),
        rx.text(source.document_name, size="2", weight="medium"),
        rx.cond(source.page != "", rx.text("page ", source.page, size="1", color_scheme="gray")),
        rx.cond(source.section != "", rx.text("· ", source.section, size="1", color_scheme="gray")),
        align="center", spacing="2", wrap="wrap", class_name="kb-test-source",
    )


def test_result() -> rx.Component:
    t = Ask.test
    return rx.cond(t.asked, rx.vstack(
        rx.hstack(
            rx.cond(t.answered, rx.badge(rx.icon("check", size=12), "Answered", color_scheme="green"),
                    rx.badge(rx.icon("circle-help", size=12), "Not found", color_scheme="amber")),
            rx.text("Confidence ", t.confidence, "% (needs ", t.threshold, "%)", size="1", color_scheme="gray"),
            rx.cond(t.origin == "qna", rx.badge("Q&A pair", variant="outline")),
            spacing="2", align="center", wrap="wrap",
        ),
        rx.progress(value=t.confidence, max=100, size="1", width="100%",
                    color_scheme=rx.cond(t.answered, "green", "amber")),
        rx.cond(t.text != "",
                rx.blockquote(rx.cond(t.answered, "", "Best guess (not said to callers): "), t.text, size="2"),
                rx.text("Nothing in this knowledge base matches. Add a Q&A pair or a document that answers it.",
                        size="2", color_scheme="gray")),
        rx.cond(t.sources.length() > 0, rx.vstack(
            rx.text("Sources", size="1", weight="medium", color_scheme="gray"),
            rx.foreach(t.sources, source_item), spacing="1")),
        spacing="3", width="100%", id="kb-test-answer",
    ))


def test_panel() -> rx.Component:
    return section(
        "Test a question", "Ask as a caller would. Your tests are not counted in the caller analytics.",
        rx.form(
            rx.flex(
                rx.input(id="kb-test-input", value=Ask.test_question, on_change=Ask.set_test_question,
                         placeholder="How much is the monthly fee?", aria_label="Question to test", size="2",
                         flex="1", min_width="0"),
                rx.button(rx.icon("search", size=16), "Ask", id="kb-test-submit", type="submit", size="2",
                          loading=Ask.test_busy),
                spacing="2", width="100%",
            ),
            on_submit=lambda _: Ask.run_test(), width="100%",
        ),
        test_result(),
        id="kb-test-panel",
    )


# ---------------------------------------------------------------- Q&A pairs

def qna_editor() -> rx.Component:
    return rx.vstack(
        field("Question", rx.input(id="qna-question", value=QnA.qna_question, on_change=QnA.set_qna_question,
                                   placeholder="Do you allow pets?", size="2", width="100%"),
              id="qna-question", state=S, name="question"),
        field("Answer", rx.text_area(id="qna-answer", value=QnA.qna_answer, on_change=QnA.set_qna_answer,
                                     placeholder="Yes, up to two pets per home; dogs under 25 kg.", rows="3",
                                     width="100%"),
              id="qna-answer", state=S, name="answer"),
        form_alert(S),
        rx.hstack(
            rx.button(rx.cond(QnA.qna_editing_id > 0, "Save changes", "Add Q&A pair"), id="qna-submit",
                      on_click=QnA.save_pair, size="2"),
            rx.cond((QnA.qna_editing_id > 0) | (QnA.qna_question != "") | (QnA.qna_answer != ""),
                    rx.button("Cancel", variant="soft", color_scheme="gray", size="2", on_click=QnA.cancel_qna)),
            spacing="2",
        ),
        spacing="3", width="100%", id="qna-editor",
    )


def qna_item(pair: QnARow) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(pair.question, size="2", weight="medium"),
            rx.text(pair.answer, size="2", color_scheme="gray"),
            rx.cond(pair.source == "unanswered_question",
                    rx.badge("From a caller question", variant="outline", size="1")),
            spacing="1", flex="1", min_width="0",
        ),
        rx.cond(S.can_edit, rx.hstack(
            rx.switch(checked=pair.enabled, on_change=lambda v: QnA.toggle_pair(pair.id, v), size="1",
                      aria_label="Use this pair: " + pair.question),
            rx.icon_button(rx.icon("pencil", size=14), size="1", variant="ghost", color_scheme="gray",
                           on_click=QnA.edit_pair(pair.id), aria_label="Edit " + pair.question),
            rx.icon_button(rx.icon("trash-2", size=14), size="1", variant="ghost", color_scheme="red",
                           on_click=QnA.ask_delete_pair(pair.id, pair.question), aria_label="Delete " + pair.question),
            spacing="3", align="center"),
            rx.cond(pair.enabled, rx.badge("On", color_scheme="green"), rx.badge("Off"))),
        align="start", spacing="3", width="100%", padding="10px 0", border_top="1px solid var(--gray-a4)",
        opacity=rx.cond(pair.enabled, "1", "0.6"), class_name="qna-row",
    )


def qna_section() -> rx.Component:
    return section(
        "Q&A pairs", "Your own answers to exact questions. They win over documents whenever they match.",
        rx.cond(S.can_edit, qna_editor()),
        rx.cond(QnA.pairs.length() > 0, rx.vstack(rx.foreach(QnA.pairs, qna_item), spacing="0", width="100%",
                                                id="qna-list"),
                rx.text("No Q&A pairs yet.", size="2", color_scheme="gray")),
        id="qna-section",
    )


# ---------------------------------------------------------------- analytics

def question_item(q: QuestionRow, unanswered: bool) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(q.question, size="2", weight="medium"),
            rx.text(q.count, "× asked · ", q.answered, " answered · avg. confidence ", q.confidence,
                    "% · last ", q.last_asked, " UTC", size="1", color_scheme="gray"),
            spacing="1", flex="1", min_width="0",
        ),
        rx.cond(S.can_edit & unanswered, rx.button(
            rx.icon("message-square-plus", size=14), "Answer it", size="1", variant="soft",
            on_click=QnA.answer_question(q.question), aria_label="Write a Q&A pair for " + q.question)),
        align="center", spacing="3", width="100%", padding="8px 0", border_top="1px solid var(--gray-a4)",
    )


def question_list(title: str, rows, unanswered: bool, empty: str, id: str) -> rx.Component:
    return rx.vstack(
        rx.text(title, size="2", weight="bold"),
        rx.cond(rows.length() > 0, rx.vstack(rx.foreach(rows, lambda q: question_item(q, unanswered)),
                                             spacing="0", width="100%"),
                rx.text(empty, size="2", color_scheme="gray")),
        spacing="2", width="100%", id=id, min_width="0",
    )


def analytics_section() -> rx.Component:
    return section(
        "Caller questions", "What callers asked in the last 30 days. Turn an unanswered one into a Q&A pair.",
        rx.grid(
            question_list("Most asked", Questions.most_asked, False, "No caller questions yet.", "kb-most-asked"),
            question_list("Unanswered", Questions.unanswered, True, "Every caller question found an answer.",
                          "kb-unanswered"),
            columns=rx.breakpoints(initial="1", md="2"), spacing="5", width="100%",
        ),
        id="kb-analytics",
    )


# ---------------------------------------------------------------- page

def selected_base() -> rx.Component:
    return rx.vstack(
        bases_bar(),
        documents_section(),
        rx.grid(test_panel(), qna_section(), columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
                align_items="start"),
        analytics_section(),
        spacing="4", width="100%",
    )


def knowledge_page() -> rx.Component:
    content = rx.vstack(
        page_header("Knowledge", "What your AI agent knows: documents, web pages and your own Q&A pairs.",
                    title_id="kb-title"),
        rx.cond(~S.can_edit & S.loaded,
                rx.callout("You can read the knowledge base. Owners, admins and managers can change it.",
                           icon="eye", color_scheme="gray", width="100%")),
        rx.cond(~S.loaded, rx.skeleton(height="240px", width="100%"),
                rx.cond(S.bases.length() == 0, empty_state(), selected_base())),
        confirm_dialog(),
        rename_dialog(),
        spacing="5", width="100%",
    )
    return app_layout(content, "/knowledge")
