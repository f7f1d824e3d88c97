"""Azure Communication Services Email: one ``begin_send`` per run, idempotent, with bounded waiting.

The client authenticates with the app's managed identity (``ACS_ENDPOINT`` + DefaultAzureCredential) or,
locally, with an access key (``ACS_CONNECTION_STRING``); both must be https, because the key signs and
the token authorises every request. The operation id comes from the orchestration instance ID, and an
attempt after an interrupted one first asks the service for that operation's status, so a crash between
the send and the record never sends twice.

Waiting is bounded: azure-core retries 429 and 5xx honouring ``Retry-After`` and the poller honours it
between status checks, but every sleep goes through a budget (``max_wait`` seconds per delivery). A
``Retry-After`` beyond the budget ends the attempt (recorded as failed, retried on the next attempt)
instead of holding the activity. The sleep function is injectable so tests never sleep.

The SDK is imported lazily, so the local outbox path never loads it.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlparse

from monitoring.alerts.content import EmailChart
from monitoring.alerts.record import operation_id
from monitoring.errors import ConfigurationError, SendError
from monitoring.settings import get_settings
from monitoring.text import one_line

if TYPE_CHECKING:
    from azure.communication.email import EmailClient

log = logging.getLogger(__name__)

#: The Email REST API version: GA, and spoken by every azure-communication-email 1.x.
ACS_API_VERSION = "2023-03-31"
#: Seconds between status checks when the service sends no Retry-After.
POLL_INTERVAL = 2.0
_MAX_GENERATIONS = 20
_SUCCEEDED = {"succeeded"}
_FAILED = {"failed", "canceled", "cancelled"}


@dataclass(frozen=True)
class AcsConfig:
    """Where and as whom to send; ``access_key`` is set only for a connection string (never shown)."""

    endpoint: str
    sender: str
    access_key: str | None = field(default=None, repr=False)

    @property
    def auth(self) -> str:
        return "access key (ACS_CONNECTION_STRING)" if self.access_key else "DefaultAzureCredential"


@dataclass(frozen=True)
class AcsResult:
    """What the service said: ``sent`` (Succeeded) or ``accepted`` (queued, still running when we stopped)."""

    status: Literal["sent", "accepted"]
    service_status: str | None
    operation_id: str
    generation: int

    @property
    def location(self) -> str:
        return f"ACS operation {self.operation_id}"


def acs_config() -> AcsConfig | None:
    """ACS settings, or None when neither ACS_CONNECTION_STRING nor ACS_ENDPOINT is set (use the outbox)."""
    settings = get_settings()
    connection, endpoint = settings.acs_connection_string, settings.acs_endpoint
    if connection is None and endpoint is None:
        return None
    sender = settings.acs_sender_address
    if not sender:
        raise ConfigurationError(
            "ACS_SENDER_ADDRESS must be set to the MailFrom address of an email domain linked to the "
            "Communication Services resource, e.g. DoNotReply@<domain>"
        )
    if connection is not None:
        if endpoint and urlparse(endpoint).netloc != urlparse(connection.endpoint).netloc:
            raise ConfigurationError(
                "ACS_ENDPOINT and ACS_CONNECTION_STRING name different resources; set only one of them"
            )
        return AcsConfig(endpoint=connection.endpoint, sender=sender, access_key=connection.access_key)
    return AcsConfig(endpoint=str(endpoint), sender=sender)


class WaitBudgetExceeded(Exception):
    """A Retry-After (or backoff) would outlast the delivery's wait budget.

    Not an AzureError on purpose: azure-core's retry policy retries AzureErrors, and this must end the attempt.
    Internal: this module catches it and raises a :class:`~monitoring.errors.SendError`, so no user sees it.
    """


def _budgeted_transport(sleep: Callable[[float], None], budget: float) -> Any:
    """A requests transport whose ``sleep`` (used by the retry policy and the poller) spends a budget."""
    from azure.core.pipeline.transport import RequestsTransport

    class BudgetedTransport(RequestsTransport):
        remaining = budget

        def sleep(self, duration: float) -> None:
            if duration > self.remaining:
                raise WaitBudgetExceeded(
                    f"the service asked to wait {duration:g} s, more than the {self.remaining:g} s left of "
                    f"max_wait={budget:g} s"
                )
            self.remaining -= duration
            sleep(duration)

    return BudgetedTransport(connection_timeout=10, read_timeout=30)


def _error_text(exc: Exception) -> str:
    """The service's own error message when the response carries one, else the exception's."""
    response = getattr(exc, "response", None)
    if response is not None:
        try:
            body = response.json()
            error = body.get("error") or {}
            if error.get("message"):
                return f"{error.get('code') or 'Error'}: {error['message']}"
        except Exception:  # noqa: BLE001 - any unreadable body falls back to the exception text
            pass
    message = getattr(exc, "message", None) or str(exc)
    return one_line(message, default=type(exc).__name__)


class AcsEmailSender:
    """Sends one run's digest through ACS and says whether the service has it."""

    def __init__(self, config: AcsConfig, *, sleep: Callable[[float], None] = time.sleep,
                 max_wait: float = 120.0) -> None:
        self.config = config
        self._sleep = sleep
        self.max_wait = max_wait

    def __repr__(self) -> str:
        return f"AcsEmailSender(endpoint={self.config.endpoint!r}, sender={self.config.sender!r}, " \
               f"auth={self.config.auth!r}, max_wait={self.max_wait!r})"

    @contextmanager
    def _client(self) -> Iterator[EmailClient]:
        from azure.communication.email import EmailClient
        from azure.core.credentials import AzureKeyCredential

        options: dict[str, Any] = {
            "transport": _budgeted_transport(self._sleep, self.max_wait), "api_version": ACS_API_VERSION,
            "retry_total": 4, "retry_status": 3, "retry_backoff_factor": 1.0, "retry_backoff_max": 30,
        }
        with ExitStack() as stack:
            if self.config.access_key:
                client = EmailClient(self.config.endpoint, AzureKeyCredential(self.config.access_key), **options)
            else:
                from azure.identity import DefaultAzureCredential

                credential = stack.enter_context(DefaultAzureCredential())
                client = EmailClient(self.config.endpoint, credential, **options)
            yield stack.enter_context(client)

    def message(self, *, subject: str, text: str, html: str, recipients: list[str],
                chart: EmailChart | None = None) -> dict[str, Any]:
        """The EmailMessage JSON of the REST API; engagement tracking is off (no pixels in alert mail). A chart
        goes as an inline attachment whose ``contentId`` the HTML references as ``cid:``."""
        message: dict[str, Any] = {
            "senderAddress": self.config.sender,
            "recipients": {"to": [{"address": address} for address in recipients]},
            "content": {"subject": subject, "plainText": text, "html": html},
            "userEngagementTrackingDisabled": True,
        }
        if chart is not None:
            message["attachments"] = [{"name": f"{chart.cid}.png", "contentType": "image/png",
                                       "contentInBase64": base64.b64encode(chart.png).decode(),
                                       "contentId": chart.cid}]
        return message

    def deliver(self, message: dict[str, Any], *, instance_id: str, generation: int = 0,
                check_first: bool = False) -> AcsResult:
        """Send unless the service already has this run's operation; raise SendError when it cannot.

        With ``check_first`` (an earlier attempt may have reached the service) the operation's status is
        read first: Succeeded or running means done; unknown (404) sends with that id; Failed moves on to
        the next generation's id and checks it the same way, so an id is only ever sent once.
        """
        from azure.core.exceptions import AzureError

        try:
            with self._client() as client:
                op = operation_id(instance_id, generation)
                for _ in range(_MAX_GENERATIONS):
                    known = self._status(client, op) if check_first else None
                    if known is None:
                        return self._send(client, message, op, generation)
                    if known.lower() not in _FAILED:
                        return self._result(known, op, generation)
                    log.warning("ACS operation %s %s; sending again as a new operation", op, known)
                    generation += 1
                    op = operation_id(instance_id, generation)
                raise SendError(f"ACS reported {_MAX_GENERATIONS} operations of this run as failed; not retrying")
        except WaitBudgetExceeded as exc:
            raise SendError(f"ACS send gave up: {exc}") from exc
        except AzureError as exc:
            raise SendError(f"ACS send failed ({type(exc).__name__}): {_error_text(exc)}") from exc

    @staticmethod
    def _result(status: str, op: str, generation: int) -> AcsResult:
        done = status.lower() in _SUCCEEDED
        return AcsResult(status="sent" if done else "accepted", service_status=status, operation_id=op,
                         generation=generation)

    def _status(self, client: EmailClient, op: str) -> str | None:
        """The service's status of operation ``op``, or None if it has never seen it."""
        from azure.core.rest import HttpRequest

        response = client.send_request(
            HttpRequest("GET", f"/emails/operations/{quote(op)}", params={"api-version": ACS_API_VERSION})
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise SendError(f"ACS status check of operation {op} returned HTTP {response.status_code}")
        return str(response.json().get("status") or "Unknown")

    def _send(self, client: EmailClient, message: dict[str, Any], op: str, generation: int) -> AcsResult:
        from azure.core.exceptions import AzureError, HttpResponseError, ResourceExistsError

        try:
            poller = client.begin_send(message, operation_id=op, polling_interval=POLL_INTERVAL)
        except ResourceExistsError:
            # 409: the service knows this operation id already (an earlier attempt reached it).
            known = self._status(client, op) or "Unknown"
            if known.lower() in _FAILED:
                raise SendError(f"ACS operation {op} {known}") from None
            return self._result(known, op, generation)
        except HttpResponseError as exc:
            hint = ""
            if exc.status_code in (401, 403):
                hint = ("; with ACS_ENDPOINT the app's identity needs a role on the Communication Services "
                        "resource that may send email (the templates in infra/ grant it); with "
                        "ACS_CONNECTION_STRING check the key")
            raise SendError(f"ACS refused the send (HTTP {exc.status_code}): {_error_text(exc)}{hint}") from exc
        log.info("ACS accepted operation %s", op)
        # From here on the service has the message (202): only a Failed status makes it a failure.
        try:
            result = poller.result(timeout=self.max_wait)
        except AzureError as exc:
            if poller.status().lower() in _FAILED:
                raise SendError(f"ACS operation {op} {poller.status()}: {_error_text(exc)}") from exc
            log.warning("ACS operation %s accepted but its status is unknown: %s", op, _error_text(exc))
            return self._result(poller.status(), op, generation)
        except (WaitBudgetExceeded, OSError) as exc:
            log.warning("ACS operation %s accepted; stopped waiting for it: %s", op, exc)
            return self._result(poller.status(), op, generation)
        if not poller.done():
            log.warning("ACS operation %s still %s after %s s; the service delivers it", op, poller.status(),
                        self.max_wait)
            return self._result(poller.status(), op, generation)
        return self._result(str((result or {}).get("status") or poller.status()), op, generation)


__all__ = ["ACS_API_VERSION", "AcsConfig", "AcsEmailSender", "AcsResult", "WaitBudgetExceeded", "acs_config"]
