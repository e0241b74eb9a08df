"""Toolchain check: a Namespace, a TLS key and self-signed certificate, a Secret
holding them, and a Deployment that mounts the Secret."""

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls

cfg = pulumi.Config()
replicas = cfg.get_int("replicas") or 1

ns = k8s.core.v1.Namespace("ns", metadata={"name": "e2e-pulumi-smoke"})

key = tls.PrivateKey("key", algorithm="ECDSA", ecdsa_curve="P256")
cert = tls.SelfSignedCert(
    "cert",
    private_key_pem=key.private_key_pem,
    subject={"common_name": "smoke.e2e.local", "organization": "e2e"},
    dns_names=["smoke.e2e.local"],
    validity_period_hours=24,
    allowed_uses=["digital_signature", "key_encipherment", "server_auth"],
)

secret = k8s.core.v1.Secret(
    "tls",
    metadata={"namespace": ns.metadata["name"], "name": "smoke-tls"},
    type="kubernetes.io/tls",
    string_data={"tls.crt": cert.cert_pem, "tls.key": key.private_key_pem},
)

labels = {"app": "smoke"}
deployment = k8s.apps.v1.Deployment(
    "web",
    metadata={"namespace": ns.metadata["name"], "name": "web"},
    spec={
        "replicas": replicas,
        "selector": {"match_labels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "nginx:1.27",
                        "ports": [{"container_port": 443}],
                        "volume_mounts": [{"name": "tls", "mount_path": "/tls", "read_only": True}],
                    }
                ],
                "volumes": [{"name": "tls", "secret": {"secret_name": secret.metadata["name"]}}],
            },
        },
    },
)

pulumi.export("namespace", ns.metadata["name"])
pulumi.export("deployment", deployment.metadata["name"])
pulumi.export("ready_replicas", deployment.status["ready_replicas"])
pulumi.export("cert_pem", cert.cert_pem)
