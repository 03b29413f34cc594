"""Departmental returns: reading and checking activity tables, templates, validation and collection."""
