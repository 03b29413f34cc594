"""What people read: text tables, JSON, files, charts, the HTML report, the workbook and the manifest."""
