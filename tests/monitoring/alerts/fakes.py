"""Loopback test doubles for the alert channels: a TLS test CA, a fake ACS Email service, a webhook sink.

The servers listen on 127.0.0.1 on an ephemeral port, over TLS with a certificate from a throwaway CA
(the code under test refuses plain http, as in production), serve each connection in a daemon thread,
record every request, and stop when their context exits.

``FakeAcs`` speaks the Email REST API the way azure-communication-email uses it: ``POST /emails:send``
with an ``Operation-Id`` header and an HMAC-SHA256 (access key) or Bearer (Entra ID) Authorization,
answered by ``202`` with ``Operation-Location`` and ``Retry-After``; ``GET /emails/operations/<id>``
answered ``Running`` and then the operation's final status; ``404`` for an unknown operation. Scripted
responses (a 429 with Retry-After, a 503...) are served before the normal behaviour.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class LoopbackTLS:
    """A CA file clients trust (REQUESTS_CA_BUNDLE / SSL_CERT_FILE) and the server's context."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_tls(directory: Path) -> LoopbackTLS:
    """A throwaway CA and a certificate for 127.0.0.1 / localhost signed by it (EC keys: fast)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "alerts test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                    x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    tls = LoopbackTLS(ca_file=directory / "ca.pem", cert_file=directory / "server.pem",
                      key_file=directory / "server.key")
    tls.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tls.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return tls


@dataclass
class Scripted:
    """A canned response, served before the server's normal behaviour."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr access log
        return

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        request = Recorded(method=self.command, path=split.path, query=parse_qs(split.query),
                           headers={k.lower(): v for k, v in self.headers.items()}, body=body)
        owner = self.server.owner
        with owner.lock:
            owner.requests.append(request)
        status, headers, payload = owner.respond(request, self.path)
        data = b"" if payload is None else (payload if isinstance(payload, bytes) else json.dumps(payload).encode())
        self.send_response(status)
        if payload is not None:
            self.send_header("Content-Type", "application/json")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _handle  # BaseHTTPRequestHandler dispatches on these names


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LoopbackServer


class LoopbackServer:
    """An HTTPS server on 127.0.0.1:<ephemeral> that records requests; a context manager that stops it."""

    def __init__(self, tls: LoopbackTLS) -> None:
        self.lock = threading.Lock()
        self.requests: list[Recorded] = []
        self.script: list[Scripted] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._server.socket = tls.server_context().wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{type(self).__name__}-loopback", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"https://{host}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def respond(self, request: Recorded, raw_path: str) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            if self.script:
                canned = self.script.pop(0)
                return canned.status, canned.headers, canned.body
        return self.handle(request, raw_path)

    def handle(self, request: Recorded, raw_path: str) -> tuple[int, dict[str, str], Any]:
        """The normal behaviour once the script is used up; subclasses give the service's."""
        return 404, {}, {"error": {"code": "NotFound", "message": f"no route {request.method} {request.path}"}}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class FakeAcs(LoopbackServer):
    """The ACS Email service as the SDK sees it; ``outcomes`` are final statuses of new operations, in order."""

    def __init__(self, tls: LoopbackTLS, *, access_key: bytes = b"test-access-key-0123456789abcdef",
                 bearer_token: str = "test-entra-token") -> None:
        super().__init__(tls)
        self.access_key = base64.b64encode(access_key).decode()
        self.bearer_token = bearer_token
        self.outcomes: list[str] = []
        self.operations: dict[str, dict[str, Any]] = {}
        self.duplicate_posts = 0

    def connection_string(self, *, key: str | None = None) -> str:
        return f"endpoint={self.base_url}/;accesskey={key or self.access_key}"

    @property
    def sends(self) -> list[Recorded]:
        """POSTs the service accepted (202), one per operation."""
        return [r for r in self.requests if r.method == "POST" and r.headers.get("operation-id") in self.operations
                and self.operations[r.headers["operation-id"]]["request"] is r]

    @property
    def posts(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    def _authorised(self, request: Recorded, raw_path: str) -> bool:
        auth = request.headers.get("authorization", "")
        if auth.startswith("Bearer "):
            return auth == f"Bearer {self.bearer_token}"
        content_hash = base64.b64encode(hashlib.sha256(request.body).digest()).decode()
        if request.headers.get("x-ms-content-sha256") != content_hash:
            return False
        to_sign = f"{request.method}\n{raw_path}\n{request.headers.get('x-ms-date')};{request.headers.get('host')};" \
                  f"{content_hash}"
        digest = hmac.new(base64.b64decode(self.access_key), to_sign.encode(), hashlib.sha256).digest()
        expected = "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=" + \
                   base64.b64encode(digest).decode()
        return hmac.compare_digest(auth, expected)

    def handle(self, request: Recorded, raw_path: str) -> tuple[int, dict[str, str], Any]:
        version = request.query.get("api-version", [None])[0]
        if not version:
            return 400, {}, _error("MissingApiVersionParameter", "The api-version query parameter is required.")
        if not self._authorised(request, raw_path):
            return 401, {}, _error("Denied", "Denied by the resource provider.")
        if request.method == "POST" and request.path == "/emails:send":
            return self._send(request, version)
        if request.method == "GET" and request.path.startswith("/emails/operations/"):
            return self._status(request.path.rsplit("/", 1)[1])
        return 404, {}, _error("NotFound", f"no route {request.method} {request.path}")

    def _send(self, request: Recorded, version: str) -> tuple[int, dict[str, str], Any]:
        op = request.headers.get("operation-id")
        if not op:
            return 400, {}, _error("BadRequest", "this fake requires an Operation-Id header")
        message = request.json()
        if not message.get("senderAddress") or not message.get("recipients", {}).get("to") or \
                not message.get("content", {}).get("subject"):
            return 400, {}, _error("BadRequest", "senderAddress, recipients.to and content.subject are required")
        with self.lock:
            if op in self.operations:
                self.duplicate_posts += 1
            else:
                final = self.outcomes.pop(0) if self.outcomes else "Succeeded"
                self.operations[op] = {"request": request, "message": message, "final": final, "polls": 0}
        location = f"{self.base_url}/emails/operations/{op}?api-version={version}"
        return 202, {"Operation-Location": location, "Retry-After": "1"}, {"id": op, "status": "Running"}

    def _status(self, op: str) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            operation = self.operations.get(op)
            if operation is None:
                return 404, {}, _error("NotFound", f"operation {op} not found")
            operation["polls"] += 1
            status = "Running" if operation["polls"] == 1 else operation["final"]
        body: dict[str, Any] = {"id": op, "status": status}
        if status == "Failed":
            body.update(_error("EmailDroppedAllRecipientsSuppressed", "Message dropped: all recipients suppressed."))
        headers = {"Retry-After": "1"} if status == "Running" else {}
        return 200, headers, body


class FakeWebhook(LoopbackServer):
    """A webhook receiver: answers 200 unless scripted otherwise; ``posts`` are the requests received."""

    def url(self, name: str) -> str:
        return f"{self.base_url}/hooks/{name}"

    @property
    def posts(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    def handle(self, request: Recorded, raw_path: str) -> tuple[int, dict[str, str], Any]:
        return 200, {}, b"ok"


__all__ = ["FakeAcs", "FakeWebhook", "LoopbackServer", "Recorded", "Scripted", "LoopbackTLS", "make_tls"]
