"""Which certificate authorities the function trusts (src/aws/tls.rs), over real TLS on loopback.

By default the release binary trusts only the five Amazon Trust Services roots compiled in
from certs/amazon-trust-services.pem; SSL_CERT_FILE or SSL_CERT_DIR switch it to those
files. Here the local endpoint sits behind a TLS proxy whose certificate a throw-away CA
signs: the default build must refuse it (no request reaches EKS, the answer is a
retryable ServiceError, the process serves the next event), and with the CA named in
SSL_CERT_FILE or SSL_CERT_DIR the same request must go through.

The compiled-in bundle itself is checked against what Amazon Trust Services publishes
(https://www.amazontrust.com/repository/): the SHA-256 of each root's public key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import testkit as tk
from test_e2e import WORKERS_131, call, calls_on

BUNDLE = tk.ROOT / "certs" / "amazon-trust-services.pem"

# SHA-256 of the SubjectPublicKeyInfo of each root, as published by Amazon Trust Services.
PUBLISHED_SPKI_SHA256 = {
    "Amazon Root CA 1": "fbe3018031f9586bcbf41727e417b7d1c45c2f47f93be372a17b96b50757d5a2",
    "Amazon Root CA 2": "7f4296fc5b6a4e3b35d3c369623e364ab1af381d8fa7121533c9d6c633ea2461",
    "Amazon Root CA 3": "36abc32656acfc645c61b71613c4bf21c787f5cabbee48348d58597803d7abc9",
    "Amazon Root CA 4": "f7ecded5c66047d28ed6466b543c40e0743abe81d109254dcf845d4c2c7853c5",
    "Starfield Services Root Certificate Authority - G2": (
        "2b071c59a0a0ae76b0eadb2bad23bad4580b69c3601b630c2eaf0613afa83f92"
    ),
}


# Starfield Services Root G2 (2009) has serial number 0, which cryptography warns about.
@pytest.mark.filterwarnings("ignore:Parsed a serial number which wasn't positive")
def test_compiled_in_bundle_is_the_five_amazon_trust_services_roots() -> None:
    certs = x509.load_pem_x509_certificates(BUNDLE.read_bytes())
    found = {}
    now = dt.datetime.now(dt.UTC)
    for cert in certs:
        name = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        spki = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        found[name] = hashlib.sha256(spki).hexdigest()
        assert cert.issuer == cert.subject, f"{name} is not self-signed"
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca, name
        assert cert.not_valid_before_utc < now < cert.not_valid_after_utc, f"{name} is not valid now"
    assert found == PUBLISHED_SPKI_SHA256


# ------------------------------------------------------------------ TLS proxy


@dataclass
class Pki:
    ca_pem: Path
    cert_pem: Path
    key_pem: Path


def make_pki(directory: Path) -> Pki:
    """A throw-away CA and a certificate for 127.0.0.1 it signs."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "eks-nodegroup-updater test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    # The CA alone in its own directory, so SSL_CERT_DIR can name it.
    (directory / "ca").mkdir(parents=True, exist_ok=True)
    pki = Pki(directory / "ca" / "ca.pem", directory / "server.pem", directory / "server.key")
    pki.ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return pki


@dataclass
class TlsProxy:
    """Terminates TLS on a loopback port and relays the plain bytes to `upstream_port`."""

    pki: Pki
    upstream_port: int
    port: int = 0
    handshakes_ok: int = 0
    handshakes_failed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(self.pki.cert_pem, self.pki.key_pem)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, name="tls-proxy", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def counts(self) -> tuple[int, int]:
        with self._lock:
            return self.handshakes_ok, self.handshakes_failed

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        raw.settimeout(10)
        try:
            tls = self._context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            with self._lock:
                self.handshakes_failed += 1
            raw.close()
            return
        with self._lock:
            self.handshakes_ok += 1
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
        except OSError:
            tls.close()
            return
        tls.settimeout(None)
        upstream.settimeout(None)
        back = threading.Thread(target=_pump, args=(upstream, tls), daemon=True)
        back.start()
        try:
            _pump(tls, upstream)
            # Either direction ending shuts both sockets down, which ends the other pump.
            back.join(timeout=10)
        finally:
            tls.close()
            upstream.close()

    def __enter__(self) -> TlsProxy:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture(scope="module")
def pki(workdir: Path) -> Pki:
    return make_pki(workdir / "pki")


@pytest.fixture(scope="module")
def proxy(endpoint: tk.LocalEks, pki: Pki) -> Iterator[TlsProxy]:
    upstream_port = urllib.parse.urlsplit(endpoint.url).port
    with TlsProxy(pki, upstream_port) as p:
        yield p


# ------------------------------------------------------------------- the tests


def test_default_trust_refuses_a_ca_outside_amazon_trust_services(
    world_eks: tk.LocalEks, proxy: TlsProxy, workdir: Path
) -> None:
    with tk.lambda_function(proxy.url, workdir, name="function-tls-default") as lam:
        ok_before, failed_before = proxy.counts()
        ok, body = call(lam, WORKERS_131)
        assert not ok, body
        assert body["errorType"] == "ServiceError", body
        assert "certificate is not signed by a trusted CA" in body["errorMessage"], body
        ok_after, failed_after = proxy.counts()
        assert ok_after == ok_before, "a TLS session was established with an untrusted CA"
        assert failed_after > failed_before, "the function never tried the endpoint"
        assert calls_on(world_eks, "prod", "workers") == (0, 0)
        # The process is still serving: the next event gets its answer too.
        ok, body = call(lam, {"clusterName": "prod"})
        assert not ok and body["errorType"] == "InvalidInput", body


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_ssl_cert_variables_choose_the_trusted_cas(
    world_eks: tk.LocalEks, proxy: TlsProxy, pki: Pki, workdir: Path, variable: str
) -> None:
    value = str(pki.ca_pem if variable == "SSL_CERT_FILE" else pki.ca_pem.parent)
    with tk.lambda_function(
        proxy.url, workdir, name=f"function-tls-{variable.lower()}", extra_env={variable: value}
    ) as lam:
        ok_before, failed_before = proxy.counts()
        ok, body = call(lam, WORKERS_131)
        assert ok, body
        assert body["outcome"] == "Started", body
        ok_after, failed_after = proxy.counts()
        assert ok_after > ok_before and failed_after == failed_before
        assert calls_on(world_eks, "prod", "workers") == (1, 1)
