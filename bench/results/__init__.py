"""A result folder → its files and back.

Names and columns (schema), read (read), written (write).
"""
