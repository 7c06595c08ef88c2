"""Knowledge bases: parse → chunk → embed → index → search → answer.

Modules, in the order a document travels: ``intake`` (checks an upload), ``storage`` (keeps the original),
``documents`` (creates documents and queues their processing), ``processing`` (the background job),
``parsing`` / ``webpages`` (text out of files and pages), ``chunking``, ``embeddings``, ``fulltext`` and
``vectors`` (the two indexes), ``retrieval`` (hybrid search), ``answering`` (extractive answers and the
provider interface), ``questions`` (ask, log and analyse questions), ``qna`` (hand-written Q&A pairs).
This package file stays import-light: Alembic imports ``fulltext`` from it.
"""
