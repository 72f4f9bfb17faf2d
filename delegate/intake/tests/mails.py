"""Building test mail as bytes, the way a mail client would send it."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.utils import make_msgid


def mail(
    *,
    sender: str = "Carol Clausen <carol@acme.test>",
    to: str = "alpha@localhost",
    subject: str = "Bitte Hotel in Hamburg buchen",
    body: str = "Hallo,\nbitte ein Hotel für nächsten Dienstag buchen.\n\nDanke, Carol",
    html: str = "",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="acme.test")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    for filename, data, content_type in attachments:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes(policy=policy.SMTP)  # CRLF line ends, as on the wire
