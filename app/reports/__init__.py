"""Report-backs: the record turned into a document for those who were not at the table."""
