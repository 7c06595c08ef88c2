"""Leads: extraction of lead fields from speech (``extraction``, ``emails``), scoring (``scoring``) and the
lead records in the database (``records``)."""
