"""Ambassador pattern: nginx terminates TLS on 8443 with the certificate from the Secret and
forwards to the app on the pod's shared loopback."""

from __future__ import annotations

import ssl
import warnings

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from tests.harness import ProgramRun

from .conftest import PodFactory
from .pods import Pod, PodSpec, http_get, object_files, object_named

pytestmark = pytest.mark.runtime

PAGE_TITLE = b"<title>Welcome to nginx!</title>"


@pytest.fixture
def ambassador(program: ProgramRun, start_pod: PodFactory) -> Pod:
    pod = start_pod(program, PodSpec.of_pod(program, "ambassador-proxy"))
    pod.wait_ready()
    return pod


def secret_certificate(program: ProgramRun, pod: Pod) -> x509.Certificate:
    (volume,) = [v for v in pod.spec.spec["volumes"] if "secret" in v]
    secret = object_named(program, "kubernetes:core/v1:Secret", volume["secret"]["secretName"])
    assert secret.inputs["type"] == "kubernetes.io/tls"
    return x509.load_pem_x509_certificate(object_files(secret)["tls.crt"])


def test_https_and_http_return_the_apps_page(ambassador: Pod) -> None:
    # As the lab does it: busybox wget in the app container.
    direct = ambassador.exec("app", ["wget", "-qO-", "http://localhost:80"])
    assert direct.returncode == 0, direct.stderr
    assert PAGE_TITLE in direct.stdout.encode()
    via_tls = ambassador.exec("app", ["wget", "-qO-", "--no-check-certificate", "https://localhost:8443"])
    assert via_tls.returncode == 0, via_tls.stderr
    assert via_tls.stdout == direct.stdout
    # The app served it, for the proxy: its access log names the client the proxy forwarded for.
    ambassador.wait_for_log(
        "app",
        lambda out: any(line.endswith('"Wget" "127.0.0.1"') for line in out.splitlines()),
        3,
        "a request forwarded by the proxy (X-Forwarded-For) in the app's access log",
    )


def test_tls_presents_the_secrets_certificate(program: ProgramRun, ambassador: Pod) -> None:
    certificate = secret_certificate(program, ambassador)
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    # Verified against the Secret's certificate as the only trust anchor, with hostname check.
    context = ssl.create_default_context(cadata=certificate.public_bytes(Encoding.PEM).decode())
    status, headers, body, presented = http_get(
        ambassador.netns, "127.0.0.1", 8443, tls=context, server_hostname="localhost"
    )
    assert status == 200
    assert PAGE_TITLE in body
    assert headers["server"].startswith("nginx")
    assert presented == certificate.public_bytes(Encoding.DER)


def _handshake(pod: Pod, version: ssl.TLSVersion) -> str:
    """Handshake with only ``version`` offered; "" on success, else the error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.minimum_version = version
        context.maximum_version = version
    # Security level 0: OpenSSL 3 would otherwise refuse TLS 1.0/1.1 itself, on the client side.
    context.set_ciphers("ALL:@SECLEVEL=0")
    try:
        http_get(pod.netns, "127.0.0.1", 8443, tls=context, server_hostname="localhost")
    except ssl.SSLError as error:
        return f"{error.reason}: {error}"
    return ""


def test_tls_1_0_and_1_1_are_refused_by_the_server(ambassador: Pod) -> None:
    # The same client settings handshake with the versions the proxy allows...
    assert _handshake(ambassador, ssl.TLSVersion.TLSv1_2) == ""
    assert _handshake(ambassador, ssl.TLSVersion.TLSv1_3) == ""
    # ...and the server answers a protocol_version alert to the old ones.
    for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        error = _handshake(ambassador, version)
        assert error.startswith("TLSV1_ALERT_PROTOCOL_VERSION"), f"{version.name}: {error or 'handshake succeeded'}"
