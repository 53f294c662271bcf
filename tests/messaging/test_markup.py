"""Staff-written campaign text becomes safe HTML and readable plain text."""

from __future__ import annotations

from saleor_crm_plugin.messaging.markup import to_html, to_text

BODY = """# Sommerfest

Liebe Kundin,
alles **20 % günstiger** im [Shop](https://nordwind.example/sale).

- Tee
- Tassen"""


def test_paragraphs_headings_lists_bold_and_links():
    assert to_html(BODY) == (
        '<h2 style="font-size:18px;">Sommerfest</h2>\n'
        "<p>Liebe Kundin,<br>alles <strong>20 % günstiger</strong> im "
        '<a href="https://nordwind.example/sale">Shop</a>.</p>\n'
        "<ul><li>Tee</li><li>Tassen</li></ul>"
    )
    assert to_text(BODY) == (
        "Sommerfest\n\nLiebe Kundin,\nalles 20 % günstiger im Shop "
        "(https://nordwind.example/sale).\n\n- Tee\n- Tassen"
    )


def test_html_typed_by_staff_is_shown_not_run_and_only_web_links_are_links():
    html = to_html('<script>alert(1)</script> [click](javascript:alert(1)) "q" & <b>x</b>')
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<a " not in html  # a javascript: link stays text
    assert "&quot;q&quot; &amp;" in html
    link = to_html('[a"b](https://x.example/?q="1")')
    assert link == '<p><a href="https://x.example/?q=&quot;1&quot;">a&quot;b</a></p>'
