"""Text from data and definitions shows as typed in Teams and Slack: no links, pings or formatting."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from markdown_it import MarkdownIt

from monitoring.alerts.content import Links, build_view
from monitoring.alerts.decide import decide
from monitoring.alerts.webhooks import slack_payload, teams_escape, teams_payload
from monitoring.definition import AlertNotification
from tests.monitoring.alerts.conftest import MakeRun

HOSTILE = [
    "[click here](https://evil.example/phish)",
    "**urgent** _now_ ~~gone~~ `code`",
    "1. first\n2. second",
    "# heading",
    "> quoted",
    "<!channel> <https://evil.example|log in>",
    "{{DATE(2017-02-14T06:08:39Z, SHORT)}}",
    "a\\*b\\",
    "![img](https://evil.example/x.png)",
]
_ZWSP = "\u200b"


def _rendered_text(markdown: str) -> tuple[str, str]:
    """CommonMark's HTML for ``markdown`` (an independent renderer) and the text it shows."""
    rendered = MarkdownIt("commonmark").render(markdown)
    text = html.unescape(re.sub(r"<[^>]+>", "", rendered)).replace(_ZWSP, "")
    return rendered, text.strip()


@pytest.mark.parametrize("text", HOSTILE)
def test_teams_text_renders_as_typed(text: str) -> None:
    rendered, shown = _rendered_text(teams_escape(text))
    for tag in ("<a ", "<img", "<strong", "<em", "<code", "<ol", "<ul", "<h1", "<blockquote", "<del"):
        assert tag not in rendered, (text, rendered)
    assert shown.split() == text.split()
    assert "{{" not in teams_escape(text)


def _hostile_view(make_run: MakeRun) -> Any:
    run = make_run("20261128T0315Z", breaches=[("data-drift", "amount", "normalized_wasserstein_distance")])
    features = run["signals"]["data-drift"]["features"]
    features[HOSTILE[0]] = features.pop("amount")
    run["signals"]["data-drift"]["breached"] = True
    run["signals"]["prediction-drift"].update(status="failed", error=HOSTILE[5], features={}, breached=False)
    notification = AlertNotification(emails=["a@example.com"])
    return build_view(run, decide(run, notification), links=Links(report="https://x.example/r"),
                      instance_id="m-20261128T0315Z")


def _texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k in ("text", "title", "value") and isinstance(v, str)] + \
            [t for v in node.values() for t in _texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v)]
    return []


def test_a_teams_card_carries_no_live_markdown_from_the_run(make_run: MakeRun) -> None:
    card = teams_payload(_hostile_view(make_run))["attachments"][0]["content"]
    texts = [t for t in _texts(card["body"])]
    assert any("click here" in t for t in texts)
    for text in texts:
        rendered, _ = _rendered_text(text)
        assert "<a " not in rendered
    assert [a["url"] for a in card.get("actions", [])] == ["https://x.example/r"]


def test_slack_blocks_and_fallback_carry_no_ping_link_or_formatting(make_run: MakeRun) -> None:
    body = slack_payload(_hostile_view(make_run))
    dumped = json.dumps(body)
    assert "<!channel>" not in dumped
    assert "<https://evil" not in dumped
    assert "&lt;!channel&gt;" in dumped
    mrkdwn = [b["text"]["text"] for b in body["blocks"] if b.get("text", {}).get("type") == "mrkdwn"]
    breaches = next(t for t in mrkdwn if "click here" in t)
    assert "[click here](https://evil.example/phish)" in breaches  # Slack does not render [](); kept as typed
    failures = next(t for t in mrkdwn if "failed: " in t)
    assert "&lt;https://evil.example|log in&gt;" in failures
    for ch in "*_~`":
        for match in re.finditer(re.escape(ch), failures.split("failed: ", 1)[1]):
            assert failures.split("failed: ", 1)[1][match.end():match.end() + 1] == _ZWSP
    assert "<" not in body["text"]
