"""Staff-written message text ("markdown-ish") as HTML for our e-mail layout and as plain text.

Deliberately small, so what staff type is what customers get: paragraphs (a blank line),
line breaks, ``# heading``, ``- item`` lists, ``**bold**`` and ``[label](https://...)`` links.
Everything else is text: HTML typed by staff is escaped, never run, and a link goes only to
``http(s):`` or ``mailto:`` (a ``javascript:`` link stays text).
"""

from __future__ import annotations

import re
from html import escape

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]\n]+)\]\(((?:https?://|mailto:)[^\s)]+)\)")
_BLOCKS = re.compile(r"\n\s*\n")


def _inline_html(text: str) -> str:
    out: list[str] = []
    last = 0
    for match in _LINK.finditer(text):
        out.append(_BOLD.sub(r"<strong>\1</strong>", escape(text[last : match.start()])))
        label = _BOLD.sub(r"<strong>\1</strong>", escape(match.group(1)))
        out.append(f'<a href="{escape(match.group(2))}">{label}</a>')
        last = match.end()
    out.append(_BOLD.sub(r"<strong>\1</strong>", escape(text[last:])))
    return "".join(out)


def _inline_text(text: str) -> str:
    return _BOLD.sub(r"\1", _LINK.sub(r"\1 (\2)", text))


def _blocks(body: str) -> list[list[str]]:
    lines = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    return [
        [line.rstrip() for line in block.split("\n")]
        for block in _BLOCKS.split(lines)
        if block.strip()
    ]


def _is_item(line: str) -> bool:
    return line.lstrip().startswith(("- ", "* "))


def to_html(body: str) -> str:
    """The body as HTML blocks (paragraphs, headings, lists), every character escaped."""
    html: list[str] = []
    for block in _blocks(body):
        if len(block) == 1 and block[0].startswith("#"):
            html.append(
                f'<h2 style="font-size:18px;">{_inline_html(block[0].lstrip("#").strip())}</h2>'
            )
        elif all(_is_item(line) for line in block):
            items = "".join(f"<li>{_inline_html(line.lstrip()[2:].strip())}</li>" for line in block)
            html.append(f"<ul>{items}</ul>")
        else:
            html.append("<p>" + "<br>".join(_inline_html(line) for line in block) + "</p>")
    return "\n".join(html)


def to_text(body: str) -> str:
    """The body as plain text: markers dropped, a link's address after its label."""
    out: list[str] = []
    for block in _blocks(body):
        lines = []
        for line in block:
            if line.startswith("#"):
                line = line.lstrip("#").strip()
            elif _is_item(line):
                line = "- " + line.lstrip()[2:].strip()
            lines.append(_inline_text(line))
        out.append("\n".join(lines))
    return "\n\n".join(out)
