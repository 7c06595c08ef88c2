"""What the knowledge pages work out for themselves: each file's share of an upload's bytes, how the upload rows
follow their documents, the delete warning."""

from quantum_voice.states.knowledge.bases import deletion_warning
from quantum_voice.states.knowledge.root import BaseRow, DocumentRow
from quantum_voice.states.knowledge.uploads import UploadRow, follow_documents, upload_progress_by_file


def test_files_are_sent_in_order_and_each_shows_its_own_share():
    sizes = [1000, 3000]
    request = 4100  # the files plus the multipart boundaries and part headers
    assert upload_progress_by_file(sizes, 0, request) == [0, 0]
    assert upload_progress_by_file(sizes, 820, request) == [80, 0]
    assert upload_progress_by_file(sizes, 2050, request) == [100, 33]
    assert upload_progress_by_file(sizes, request, request) == [100, 100]


def test_empty_files_and_unknown_totals_do_not_divide_by_zero():
    assert upload_progress_by_file([0, 500], 0, 0) == [0, 0]
    assert upload_progress_by_file([0, 500], 300, 600) == [100, 50]
    assert upload_progress_by_file([500, 0], 300, 600) == [50, 0]
    assert upload_progress_by_file([500, 0], 600, 600) == [100, 100]
    assert upload_progress_by_file([], 10, 10) == []


def test_progress_never_leaves_0_to_100():
    assert upload_progress_by_file([100], 900, 500) == [100]
    assert upload_progress_by_file([100], -5, 500) == [0]


def test_delete_warning_counts_documents_and_names_the_campaigns():
    base = BaseRow(id=1, name="Brochures", documents=1)
    assert deletion_warning(base, []).startswith("“Brochures” will be deleted with its 1 document, its Q&A pairs")
    assert "Campaign" not in deletion_warning(base, [])
    one = deletion_warning(BaseRow(id=1, name="Brochures", documents=27), ["Spring open house"])
    assert "27 documents" in one and "Campaign “Spring open house” answers callers from it" in one
    two = deletion_warning(base, ["Open house", "Yard sign"])
    assert "Campaigns “Open house”, “Yard sign” answer callers from it" in two


def test_stored_files_follow_their_documents_and_go_with_them():
    files = [UploadRow("a.md", 0, "uploading"), UploadRow("b.md", 7, "queued"),
             UploadRow("c.md", 0, "failed", 0, "Too big"), UploadRow("gone.md", 9, "queued")]
    docs = [DocumentRow(id=7, status="embedding", progress=60), DocumentRow(id=8, status="ready")]
    rows = follow_documents(files, docs)
    assert [(r.name, r.status, r.progress) for r in rows] == [("a.md", "uploading", 0), ("b.md", "embedding", 60),
                                                              ("c.md", "failed", 0)]
    assert rows[2].error == "Too big"
    assert files[1].status == "queued"  # the rows as sent are kept as they were
