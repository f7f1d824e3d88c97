"""The ACS message carries the email's chart as an inline attachment that the HTML references by cid."""

from __future__ import annotations

import base64

from monitoring.alerts.acs import AcsConfig, AcsEmailSender
from monitoring.alerts.content import EmailChart


def test_chart_is_an_inline_attachment_with_its_content_id() -> None:
    sender = AcsEmailSender(AcsConfig(endpoint="https://x.communication.azure.com", sender="a@b.example"))
    png = b"\x89PNG\r\n\x1a\nfake"
    chart = EmailChart(cid="worst-feature", caption="c", png=png)
    message = sender.message(subject="s", text="t", html='<img src="cid:worst-feature">', recipients=["r@b.example"],
                             chart=chart)
    (attachment,) = message["attachments"]
    assert attachment["contentId"] == "worst-feature"
    assert attachment["contentType"] == "image/png"
    assert base64.b64decode(attachment["contentInBase64"]) == png
    assert "attachments" not in sender.message(subject="s", text="t", html="h", recipients=["r@b.example"])
