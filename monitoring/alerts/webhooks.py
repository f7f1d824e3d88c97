"""Webhooks (our extension): Microsoft Teams, Slack or plain JSON, to a URL kept in an app setting.

The YAML names the setting (``setting: TEAMS_WEBHOOK_URL``), never the URL: webhook URLs are bearer
secrets. The URL is read from the environment at send time, must be https, and never appears in
alert.json, logs or errors. A post is retried on 408/425/429/5xx and connection errors, honouring
``Retry-After`` within the delivery's wait budget; each carries an ``Idempotency-Key`` header (stable per
run and channel) so that receivers which deduplicate can do so after a retried post.

Formats:

- ``teams``: a message with one Adaptive Card (1.4), accepted by Teams Workflows webhooks and by the
  classic incoming webhooks.
- ``slack``: an incoming-webhook payload with Block Kit blocks and a ``text`` fallback.
- ``json``: the run's alert summary (schema ``monitoring.alert/v1``), for your own automation.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlparse

from monitoring.alerts.content import AlertView, Row
from monitoring.errors import ConfigurationError, SendError
from monitoring.settings import RESERVED_NAMES

WebhookFormat = Literal["teams", "slack", "json"]
#: Rows shown in a chat card; the rest are counted ("and N more") and are in the linked report.
CARD_MAX_ROWS = 10
_SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_USER_AGENT = "serverless-model-monitoring-alerts/1"


def webhook_url(setting_name: str) -> str:
    """The https URL in app setting ``setting_name``; the errors name the setting, never the value."""
    if not _SETTING_NAME.match(setting_name):
        raise ConfigurationError(
            f"webhook setting name `{setting_name}` is not an app setting name: use letters, digits and `_`, "
            "not starting with a digit (e.g. TEAMS_WEBHOOK_URL)"
        )
    if setting_name in RESERVED_NAMES:
        raise ConfigurationError(
            f"webhook setting `{setting_name}` is one of the app's own settings; put the webhook URL in a "
            "setting of its own, e.g. TEAMS_WEBHOOK_URL"
        )
    url = os.environ.get(setting_name, "").strip()
    if not url:
        raise ConfigurationError(
            f"webhook setting `{setting_name}` is not set: add it to the Function App's application settings "
            "(or to local.settings.json / the environment when running locally) with the webhook URL"
        )
    parsed = urlparse(url)
    if parsed.scheme.lower() != "https" or not parsed.hostname:
        raise ConfigurationError(
            f"webhook setting `{setting_name}` must hold an https:// URL (it holds a "
            f"`{parsed.scheme or 'schemeless'}` one); alerts are only posted over TLS"
        )
    return url


def _row_text(row: Row) -> str:
    return f"{row.value} ({row.relation} threshold {row.threshold})"


def _links(view: AlertView) -> list[tuple[str, str]]:
    """Links a chat client can open: http(s) only (a local file path means nothing to a Teams user)."""
    return [(label, url) for label, url in view.links.items() if url.lower().startswith(("https://", "http://"))]


#: Characters Adaptive Card markdown (TextBlock text, Fact values) gives a meaning anywhere in a line; each
#: is backslash-escaped. Brackets cover links and images; ``#``, ``>``, ``-``, ``+`` and ``1.`` matter only
#: at the start of a line (headings, quotes, lists) and are escaped there.
_TEAMS_MARKDOWN = re.compile(r"([\\`*_\[\]~<])")
_TEAMS_LINE_START = re.compile(r"(?m)^(\s*)([#+-](?=\s|$)|>|\d+\.(?=\s|$))")
_ZERO_WIDTH_SPACE = "\u200b"


def teams_escape(text: str) -> str:
    """``text`` shown as typed in a Teams card: markdown characters backslash-escaped, line starts that
    would begin a heading, quote or list escaped, and the card's ``{{DATE(...)}}`` function syntax
    defused. Feature, signal and error texts come from data and definitions: ``[click](https://evil)``
    must stay text."""
    escaped = _TEAMS_MARKDOWN.sub(r"\\\1", text)
    escaped = _TEAMS_LINE_START.sub(lambda m: m[1] + "\\" + m[2] if m[2][-1] != "." else
                                    m[1] + m[2][:-1] + "\\.", escaped)
    return escaped.replace("{{", "{" + _ZERO_WIDTH_SPACE + "{")


def teams_payload(view: AlertView, *, max_rows: int = CARD_MAX_ROWS) -> dict[str, Any]:
    """A Teams message holding one Adaptive Card: title, headline, breaches as facts, failures, links;
    every text from the run is escaped (``teams_escape``)."""
    colour = {"breached": "Attention", "failed": "Warning", "resolved": "Good"}[view.tone]
    esc = teams_escape
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": esc(view.subject), "weight": "Bolder", "size": "Medium", "wrap": True,
         "color": colour},
        {"type": "TextBlock", "text": esc(view.headline), "wrap": True},
    ]
    rows = view.all_rows[:max_rows]
    if rows:
        body.append({"type": "FactSet", "facts": [
            {"title": esc(f"{r.signal} / {r.feature} / {r.metric}"), "value": esc(_row_text(r))} for r in rows
        ]})
        more = len(view.all_rows) - len(rows)
        if more:
            body.append({"type": "TextBlock", "text": f"and {more} more", "isSubtle": True, "wrap": True})
    for failure in view.failures:
        body.append({"type": "TextBlock", "wrap": True, "color": "Warning",
                     "text": esc(f"{failure.name} ({failure.type}) failed: {failure.error or 'no reason recorded'}")})
    body.append({"type": "TextBlock", "text": esc(f"Why: {view.reason} (mode {view.mode})"), "isSubtle": True,
                 "size": "Small", "wrap": True})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
        "msteams": {"width": "Full"}, "body": body,
    }
    links = _links(view)
    if links:
        card["actions"] = [{"type": "Action.OpenUrl", "title": label, "url": url} for label, url in links]
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card},
    ]}


def _slack_escape(text: str) -> str:
    """Text shown as typed in Slack mrkdwn: its three control characters escaped (so ``<!channel>`` or
    ``<https://evil|click>`` stay text), and a zero-width space after each formatting character
    (``*_~```), which Slack cannot escape, so a name cannot open bold, italics, strike or code."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([*_~`])", "\\1" + _ZERO_WIDTH_SPACE, escaped)


def _slack_plain(text: str) -> str:
    """Plain text (the header, the notification fallback): only the control characters escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(view: AlertView, *, max_rows: int = CARD_MAX_ROWS) -> dict[str, Any]:
    """Block Kit blocks (header, headline, breaches, failures, links) with a plain ``text`` fallback."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _slack_plain(view.subject)[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(view.headline)}},
    ]
    rows = view.all_rows[:max_rows]
    if rows:
        lines = [f"*{_slack_escape(r.signal)}* / {_slack_escape(r.feature)} / {_slack_escape(r.metric)}: "
                 f"{_slack_escape(_row_text(r))}" for r in rows]
        more = len(view.all_rows) - len(rows)
        if more:
            lines.append(f"_and {more} more_")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]}})
    if view.failures:
        lines = [f"*{_slack_escape(f.name)}* ({_slack_escape(f.type)}) failed: "
                 f"{_slack_escape(f.error or 'no reason recorded')}" for f in view.failures]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]}})
    links = _links(view)
    if links:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": label}, "url": url} for label, url in links
        ]})
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": _slack_escape(f"Why: {view.reason} (mode {view.mode})")},
    ]})
    return {"text": _slack_plain(f"{view.subject}: {view.headline}"), "blocks": blocks}


def json_payload(view: AlertView, *, idempotency_key: str) -> dict[str, Any]:
    """The run's alert summary with every breach (uncapped): the contract of the ``json`` format."""
    return {
        "schema": "monitoring.alert/v1",
        "idempotency_key": idempotency_key,
        "monitor": view.monitor,
        "run_id": view.run_id,
        "fire_time": view.fire_time_iso,
        "instance_id": view.instance_id,
        "run_status": view.run_status,
        "subject": view.subject,
        "headline": view.headline,
        "reason": view.reason,
        "mode": view.mode,
        "resolved": view.resolved,
        "previous_run_id": view.previous_run_id,
        "breached_signals": view.breached_signals,
        "breaches": [{"signal": r.signal, "feature": r.feature, "metric": r.metric, "value": r.value,
                      "threshold": r.threshold, "breached_when": r.relation, "new": r.new} for r in view.all_rows],
        "failures": [{"signal": f.name, "type": f.type, "status": f.status, "error": f.error}
                     for f in view.failures],
        "signals": [{"signal": s.name, "type": s.type, "status": s.status, "breached": s.breached,
                     "production_window": s.production_window, "reference_window": s.reference_window,
                     "production_rows": s.production_rows, "reference_rows": s.reference_rows}
                    for s in view.signals],
        "links": {name: url for name, url in (("report", view.links.report), ("run", view.links.run),
                                               ("run_json", view.links.run_json)) if url},
    }


def payload(fmt: WebhookFormat | str, view: AlertView, *, idempotency_key: str) -> dict[str, Any]:
    """The body to post for ``fmt`` (one of ``teams``, ``slack``, ``json``)."""
    builders: Mapping[str, Callable[[], dict[str, Any]]] = {
        "teams": lambda: teams_payload(view),
        "slack": lambda: slack_payload(view),
        "json": lambda: json_payload(view, idempotency_key=idempotency_key),
    }
    if fmt not in builders:
        raise ConfigurationError(f"webhook format `{fmt}` is not one of {', '.join(sorted(builders))}")
    return builders[fmt]()


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook that redirects is misconfigured; following it would re-send the body somewhere else."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None


def post_json(url: str, body: Mapping[str, Any], *, idempotency_key: str, sleep: Callable[[float], None] = time.sleep,
              max_wait: float = 60.0, attempts: int = 4, timeout: float = 15.0) -> int:
    """POST ``body`` as JSON; return the 2xx status, or raise SendError after ``attempts`` tries.

    Retries 408/425/429/5xx and network errors; waits ``Retry-After`` when given, else 1, 2, 4... s;
    never waits more than ``max_wait`` seconds in total (a longer Retry-After ends the attempt).
    """
    data = json.dumps(body, allow_nan=False).encode()
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.HTTPSHandler(context=ssl.create_default_context()))
    headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": idempotency_key,
               "User-Agent": _USER_AGENT}
    host = urlparse(url).hostname
    remaining = max_wait
    problem = "no attempt made"
    for attempt in range(1, attempts + 1):
        wait: float | None = None
        try:
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")
            with opener.open(request, timeout=timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            with exc:
                problem = f"HTTP {exc.code} from {host}"
                if exc.code not in _RETRY_STATUS:
                    raise SendError(f"webhook post refused: {problem}") from None
                wait = _retry_after(exc.headers.get("Retry-After"))
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            problem = f"{type(reason).__name__} reaching {host}"
        if attempt == attempts:
            break
        wait = 2.0 ** (attempt - 1) if wait is None else wait
        if wait > remaining:
            raise SendError(f"webhook post gave up after {attempt} attempt(s): {problem}; the server asked to wait "
                            f"{wait:g} s, more than the {remaining:g} s left of max_wait")
        remaining -= wait
        sleep(wait)
    raise SendError(f"webhook post failed after {attempts} attempts: {problem}")


__all__ = [
    "CARD_MAX_ROWS", "WebhookFormat", "json_payload", "payload", "post_json", "slack_payload", "teams_payload",
    "webhook_url",
]
