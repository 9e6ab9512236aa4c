"""PDF rendering (reportlab): data in, bytes out."""
