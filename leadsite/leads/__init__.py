"""Leads outside registration: edit and erase, search and sort the list, statuses, CSV export
and import."""
