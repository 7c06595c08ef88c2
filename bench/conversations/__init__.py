"""Conversation evaluation: ``python -m bench.conversations``.

Builds each fictional business of ``material/`` (its document in a knowledge base, a ``lead_capture_qa``
campaign) on a throw-away database, asks every question at the RAG Answer node, and plays every persona as a
reactive simulated caller through the same call runner real calls use. Reports how often the agent answers with
the document's facts, invents answers, captures a correct consented lead, and how many turns that takes.

Python API: ``bench.conversations.evaluate.run`` (temporary database) and ``evaluate`` (the installed one).
"""
