"""/knowledge/upload: drop several files; each one shows its way through upload → processing → ready or failed."""

import json

import reflex as rx

from quantum_voice.components.knowledge import base_picker, section, status_badge
from quantum_voice.components.layout import app_layout, page_header
from quantum_voice.components.listing import icon_bubble
from quantum_voice.services.knowledge.intake import MAX_FILES_PER_UPLOAD
from quantum_voice.states.knowledge.root import KnowledgeState as S
from quantum_voice.states.knowledge.uploads import UploadRow, UploadsState as U

UPLOAD_ID = "kb-upload"
ACCEPT = {
    "application/pdf": [".pdf"],
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": [".docx"],
    "text/plain": [".txt"],
    "text/markdown": [".md", ".markdown"],
}


def selected_file_sizes(upload_id: str) -> rx.Var:
    """``[name, size]`` of each selected file: ``rx.selected_files`` gives only names, so read the same React
    context (its var data brings the hook along) for the sizes the per-file byte progress is split by."""
    names = rx.selected_files(upload_id)
    key = json.dumps(upload_id)
    return rx.Var(_js_expr=f"(filesById[{key}] ? filesById[{key}].map((f) => [f.name, f.size]) : [])",
                  _var_type=list[list], _var_data=names._get_all_var_data())


def drop_zone() -> rx.Component:
    return rx.upload(
        rx.vstack(
            icon_bubble("cloud-upload"),
            rx.text("Drag files here, or click to choose", size="3", weight="medium"),
            rx.text("PDF, Word (.docx), text or Markdown · up to ", U.max_upload_mb, " MB each", size="2",
                    color_scheme="gray"),
            align="center", spacing="2",
        ),
        id=UPLOAD_ID,
        multiple=True,
        accept=ACCEPT,
        max_files=MAX_FILES_PER_UPLOAD,
        disabled=U.uploading,
        border="2px dashed var(--gray-a7)",
        border_radius="var(--radius-4)",
        padding=["24px 12px", "40px 24px"],
        width="100%",
        cursor="pointer",
        _hover={"border_color": "var(--accent-8)", "background_color": "var(--accent-a2)"},
    )


def selected_list() -> rx.Component:
    files = rx.selected_files(UPLOAD_ID)
    return rx.cond(files.length() > 0, rx.vstack(
        rx.text("Ready to upload", size="2", weight="medium"),
        rx.foreach(files, lambda name: rx.hstack(rx.icon("file", size=14), rx.text(name, size="2"),
                                                 align="center", spacing="2")),
        # Reflex reports progress for the whole request only: this bar is that; each file's estimated share is on
        # its own row below ("This upload"), split by UploadsState.set_upload_progress.
        rx.cond(U.uploading, rx.vstack(
            rx.text("Uploading… ", U.upload_progress, "%", size="1", color_scheme="gray"),
            rx.progress(value=U.upload_progress, max=100, width="100%", aria_label="Upload progress"),
            spacing="1", width="100%", id="kb-upload-bytes")),
        rx.hstack(
            rx.button(rx.icon("upload", size=16), "Upload", id="kb-upload-submit", loading=U.uploading,
                      on_click=[U.start_upload(selected_file_sizes(UPLOAD_ID)),
                                U.upload(rx.upload_files(upload_id=UPLOAD_ID,
                                                         on_upload_progress=U.set_upload_progress))]),
            rx.button("Clear", variant="soft", color_scheme="gray", disabled=U.uploading,
                      on_click=rx.clear_selected_files(UPLOAD_ID)),
            spacing="3",
        ),
        spacing="2", width="100%", id="kb-selected-files",
    ))


def upload_row(row: UploadRow) -> rx.Component:
    return rx.hstack(
        rx.icon(rx.cond(row.status == "failed", "file-x", rx.cond(row.status == "ready", "file-check", "file")),
                size=18, color=rx.cond(row.status == "failed", "var(--red-11)", "var(--gray-11)"), flex_shrink="0"),
        rx.vstack(
            rx.text(row.name, size="2", weight="medium", word_break="break-all"),
            rx.cond(row.error != "", rx.text(row.error, size="1", color_scheme="red", role="alert")),
            spacing="1", flex="1", min_width="0",
        ),
        status_badge(row.status, row.progress, align="end"),
        align="start", spacing="3", width="100%", padding="10px 0", border_bottom="1px solid var(--gray-a4)",
        class_name="kb-upload-row", custom_attrs={"data-status": row.status},
    )


def progress_list() -> rx.Component:
    return rx.cond(U.uploads.length() > 0, section(
        "This upload", "Each file is read, split into passages and indexed; it is ready when the agent can use it.",
        rx.vstack(rx.foreach(U.uploads, upload_row), spacing="0", width="100%", id="kb-upload-progress"),
        action=rx.hstack(
            rx.button(rx.link("View documents", href="/knowledge", underline="none", id="kb-view-documents"),
                      as_child=True, variant="soft", size="2"),
            rx.button("Clear finished", variant="ghost", color_scheme="gray", size="2", on_click=U.clear_uploads),
            spacing="2"),
    ))


def upload_body() -> rx.Component:
    return rx.cond(
        S.bases.length() == 0,
        rx.callout(rx.text("Create a knowledge base first, then upload its documents here. ",
                           rx.link("Go to Knowledge", href="/knowledge")), icon="info", width="100%"),
        rx.cond(S.can_edit, rx.vstack(
            base_picker(),
            section("Add documents", "Brochures, price lists, FAQs: the agent answers callers from them.",
                    drop_zone(), selected_list()),
            progress_list(),
            spacing="4", width="100%",
        ), rx.callout("You can read the knowledge base. Owners, admins and managers can upload documents.",
                      icon="eye", color_scheme="gray", width="100%")),
    )


def knowledge_upload_page() -> rx.Component:
    back = rx.button(rx.link(rx.icon("arrow-left", size=14), "Knowledge", href="/knowledge", underline="none"),
                     as_child=True, variant="soft", color_scheme="gray", size="2")
    content = rx.vstack(
        page_header("Upload documents", "Files are checked by their content, then processed in the background.",
                    back, title_id="kb-upload-title"),
        rx.cond(S.loaded, upload_body(), rx.skeleton(height="240px", width="100%")),
        spacing="5", width="100%",
    )
    return app_layout(content, "/knowledge")
