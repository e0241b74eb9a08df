"""Runs the real Pulumi program (or one component) under Pulumi's mocks and records everything
it registers: type, name, parent, dependencies and inputs of every resource, and the stack's
exports. The tls mocks return a real key and certificate made with `cryptography`, with the
algorithm, names and validity the program asked for, so the Secret the proxy mounts holds
real PEMs.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import runpy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "__main__.py"
PROJECT = "multi-container-patterns"
STACK = "unit"

_CURVES: dict[str, ec.EllipticCurve] = {"P256": ec.SECP256R1(), "P384": ec.SECP384R1(), "P521": ec.SECP521R1()}


def _unwrap(value: Any) -> tuple[Any, bool]:
    """A deserialized input without secret wrappers, and whether any part of it was secret."""
    if rpc.is_rpc_secret(value):
        inner, _ = _unwrap(rpc.unwrap_rpc_secret(value))
        return inner, True
    if isinstance(value, dict):
        secret = False
        plain = {}
        for key, item in value.items():
            plain[key], item_secret = _unwrap(item)
            secret = secret or item_secret
        return plain, secret
    if isinstance(value, list):
        items = [_unwrap(item) for item in value]
        return [item for item, _ in items], any(secret for _, secret in items)
    return value, False


def _secret_keys(inputs: Mapping[str, Any]) -> set[str]:
    return {key for key, value in inputs.items() if _unwrap(value)[1]}


def make_private_key(inputs: Mapping[str, Any]) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    algorithm = inputs.get("algorithm", "RSA")
    if algorithm == "ECDSA":
        return ec.generate_private_key(_CURVES[inputs.get("ecdsaCurve", "P224")])
    if algorithm == "RSA":
        return rsa.generate_private_key(public_exponent=65537, key_size=int(inputs.get("rsaBits", 2048)))
    raise AssertionError(f"the mocks make no {algorithm} keys")


def make_self_signed_cert(inputs: Mapping[str, Any]) -> tuple[str, datetime.datetime, datetime.datetime]:
    key = serialization.load_pem_private_key(inputs["privateKeyPem"].encode(), password=None)
    assert isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey))
    subject = inputs.get("subject") or {}
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject.get("commonName", "mock"))])
    start = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    end = start + datetime.timedelta(hours=int(inputs["validityPeriodHours"]))
    alt_names: list[x509.GeneralName] = [x509.DNSName(dns) for dns in inputs.get("dnsNames") or []]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in inputs.get("ipAddresses") or []]
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    )
    cert = builder.sign(key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM).decode(), start, end


class LabMocks(pulumi.runtime.Mocks):
    """Echoes inputs as outputs, fills in what a provider would compute."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs, _ = _unwrap(args.inputs)
        state = dict(args.inputs)
        if args.typ == "tls:index/privateKey:PrivateKey":
            key = make_private_key(inputs)
            state["privateKeyPem"] = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
            ).decode()
            state["publicKeyPem"] = (
                key.public_key()
                .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
                .decode()
            )
        elif args.typ == "tls:index/selfSignedCert:SelfSignedCert":
            cert_pem, start, end = make_self_signed_cert(inputs)
            state.update(
                certPem=cert_pem,
                validityStartTime=start.isoformat().replace("+00:00", "Z"),
                validityEndTime=end.isoformat().replace("+00:00", "Z"),
                readyForRenewal=False,
            )
        elif args.typ.startswith("kubernetes:") and args.custom:
            metadata = dict(state.get("metadata") or {})
            if "name" not in metadata:
                # What the provider's auto-naming would do: the resource name plus a suffix.
                metadata["name"] = f"{args.name}-{hashlib.sha1(args.name.encode()).hexdigest()[:8]}"
            state["metadata"] = metadata
            if args.typ == "kubernetes:core/v1:Secret" and inputs.get("type") == "kubernetes.io/service-account-token":
                # What the token controller writes into a ServiceAccount's token Secret.
                account = metadata["annotations"]["kubernetes.io/service-account.name"]
                state["data"] = {
                    "token": base64.b64encode(f"token-of-{metadata['namespace']}-{account}".encode()).decode(),
                    "ca.crt": base64.b64encode(
                        b"-----BEGIN CERTIFICATE-----\nMOCK\n-----END CERTIFICATE-----\n"
                    ).decode(),
                    "namespace": base64.b64encode(str(metadata["namespace"]).encode()).decode(),
                }
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


@dataclass
class Registered:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    dependencies: list[str]
    inputs: dict[str, Any]
    """Inputs with secrets unwrapped."""
    secret_inputs: set[str]
    """Top-level input names whose value was (or held) a secret."""
    options: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    """Outputs as the mocks returned them (auto-names filled in), secrets unwrapped."""
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    """For each input, the URNs of the resources its value came from."""
    aliases: list[str | dict[str, Any]] = field(default_factory=list)
    """Its aliases as the SDK sent them: an old URN, or a spec (name, type, parentUrn, noParent,
    stack, project; what it leaves out is the resource's own)."""


def _alias(alias: Any) -> str | dict[str, Any]:
    if alias.WhichOneof("alias") == "urn":
        return alias.urn
    spec = alias.spec
    return {field.name: value for field, value in spec.ListFields()}


class RecordingMonitor(MockMonitor):
    """The mock monitor, keeping every registration with its parent and dependencies."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registered: list[Registered] = []
        self.outputs: dict[str, dict[str, Any]] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            raw_inputs = rpc.deserialize_properties(request.object)
            inputs, _ = _unwrap(raw_inputs)
            self.registered.append(
                Registered(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    custom=request.custom,
                    parent=request.parent,
                    dependencies=list(request.dependencies),
                    inputs=inputs,
                    secret_inputs=_secret_keys(raw_inputs),
                    options={
                        "delete_before_replace": request.deleteBeforeReplace,
                        "replace_on_changes": list(request.replaceOnChanges),
                        "provider": request.provider,
                        "deleted_with": request.deletedWith,
                    },
                    state=_unwrap(self.resources[response.urn].state)[0] if response.urn in self.resources else {},
                    property_dependencies={key: list(deps.urns) for key, deps in request.propertyDependencies.items()},
                    aliases=[_alias(alias) for alias in request.aliases],
                )
            )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        self.outputs[request.urn] = _unwrap(rpc.deserialize_properties(request.outputs))[0]
        return super().RegisterResourceOutputs(request)


@dataclass
class ProgramRun:
    resources: list[Registered]
    exports: dict[str, Any]
    secret_exports: set[str]
    component_outputs: dict[str, dict[str, Any]]
    error: BaseException | None = None
    """What the program raised, when run with ``expect_error``."""

    def of_type(self, type_token: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, k8s_name: str | None = None) -> Registered:
        matches = [
            r
            for r in self.of_type(type_token)
            if k8s_name is None or (r.inputs.get("metadata") or {}).get("name") == k8s_name
        ]
        assert len(matches) == 1, f"expected one {type_token} named {k8s_name}, found {[m.name for m in matches]}"
        return matches[0]

    def by_urn(self, urn: str) -> Registered:
        return next(r for r in self.resources if r.urn == urn)

    def deleted_with(self, resource: Registered) -> str:
        """The URN ``resource`` is deleted with: its own ``deletedWith`` or, as the engine does it,
        its nearest ancestor's."""
        by_urn = {r.urn: r for r in self.resources}
        current: Registered | None = resource
        while current is not None:
            if current.options["deleted_with"]:
                return current.options["deleted_with"]
            current = by_urn.get(current.parent)
        return ""

    def kubernetes_objects(self) -> Iterator[Registered]:
        return (r for r in self.resources if r.type.startswith("kubernetes:") and not r.type.startswith("pulumi:"))


def run(
    body: Callable[[], Mapping[str, Any] | None],
    *,
    config: Mapping[str, str] | None = None,
    preview: bool = False,
    expect_error: bool = False,
) -> ProgramRun:
    """Run ``body`` under fresh mocks; whatever it returns (name to Output) is resolved into ``exports``."""
    mocks = LabMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.reset_options(project=PROJECT, stack=STACK)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=STACK, preview=preview, monitor=monitor)
    pulumi.runtime.set_all_config({f"{PROJECT}:{key}": value for key, value in (config or {}).items()})
    exports: dict[str, Any] = {}
    secret_exports: set[str] = set()

    @pulumi.runtime.test
    def execute() -> pulumi.Output[Any]:
        outputs = body() or {}

        def collect(values: list[Any]) -> None:
            for (name, _), (value, secret) in zip(
                outputs.items(), zip(values[::2], values[1::2], strict=True), strict=True
            ):
                exports[name] = value
                if secret:
                    secret_exports.add(name)

        pairs: list[Any] = []
        for value in outputs.values():
            output = pulumi.Output.from_input(value)
            pairs += [output, output.is_secret()]
        return pulumi.Output.all(*pairs).apply(collect)

    error: BaseException | None = None
    try:
        execute()
    except Exception as raised:
        if not expect_error:
            raise
        error = raised
    if expect_error and error is None:
        raise AssertionError("the program was expected to fail")
    return ProgramRun(monitor.registered, exports, secret_exports, monitor.outputs, error)


def run_program(
    config: Mapping[str, str] | None = None, *, preview: bool = False, expect_error: bool = False
) -> ProgramRun:
    """Run ``__main__.py`` afresh, as `pulumi up` would, and resolve its exports."""

    def body() -> Mapping[str, Any]:
        runpy.run_path(str(PROGRAM), run_name="__main__")
        stack = pulumi.runtime.get_root_resource()
        assert stack is not None
        return dict(stack.outputs)  # type: ignore[attr-defined]

    return run(body, config=config, preview=preview, expect_error=expect_error)
