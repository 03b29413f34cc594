"""Readers and writers of files: workbooks, CSV and Parquet, and safe CSV output (the bottom layer)."""
