"""A result folder ↔ its files: their names and columns (schema), read and checked (read), written atomically (write)."""
