"""The e-mail itself: Django's e-mail backend (SMTP by default), RFC 8058 one-click headers."""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives, get_connection

from ..conf import crm_settings
from .render import Rendered


def message_id(message_pk: int, tenant_id: int, domain: str) -> str:
    """Stable per outbox row: a re-send after a crashed worker carries the same Message-ID, so
    receiving servers and our bounce handling see one message, not two."""
    return f"<crm.{tenant_id}.{message_pk}@{domain}>"


def build(
    rendered: Rendered,
    to: str,
    *,
    sender: str,
    msg_id: str,
    unsubscribe_url: str,
) -> EmailMultiAlternatives:
    headers = {"Message-ID": msg_id}
    if unsubscribe_url:
        targets = [f"<{unsubscribe_url}>"]
        if crm_settings.UNSUBSCRIBE_MAILTO:
            targets.append(f"<mailto:{crm_settings.UNSUBSCRIBE_MAILTO}?subject=unsubscribe>")
        headers["List-Unsubscribe"] = ", ".join(targets)
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=sender,
        to=[to],
        headers=headers,
        connection=get_connection(fail_silently=False),
    )
    mail.attach_alternative(rendered.html, "text/html")
    return mail
