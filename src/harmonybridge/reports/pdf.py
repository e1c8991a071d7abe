"""HTML to PDF with WeasyPrint (imported on call: it is heavy).

Module-level and free of Django, so the web app can run it in a separate render
process (``web/insights/pdfslots.in_render_process``).
"""

from __future__ import annotations


def layout_pdf(html: str, css_path: str | None = None) -> bytes:
    """The PDF of ``html``, with the stylesheet at ``css_path`` if given."""
    from weasyprint import CSS, HTML

    sheets = [CSS(filename=css_path)] if css_path else []
    return bytes(HTML(string=html).write_pdf(stylesheets=sheets))
