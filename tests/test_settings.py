"""Stack configuration: every setting declared, defaults in step, bad values refused early."""

from __future__ import annotations

import re
from pathlib import Path

import pulumi
import pytest
import yaml

from multicontainer_patterns._registry import PATTERNS, REGISTRY
from multicontainer_patterns._settings import DEFAULTS
from tests.harness import ROOT, run_program

PROJECT_FILE = ROOT / "Pulumi.yaml"


def test_every_setting_is_declared_in_pulumi_yaml_with_the_programs_default() -> None:
    declared = yaml.safe_load(Path(PROJECT_FILE).read_text())["config"]
    assert set(declared) == set(DEFAULTS)
    for key, declaration in declared.items():
        assert declaration["description"], key
        # A declared setting without a default is required by the engine: every one has one.
        assert declaration["default"] == DEFAULTS[key], key


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("namespace", "Multi_Container", "DNS-1123 label"),
        ("namespace", "x" * 64, "DNS-1123 label"),
        ("patterns", '["sidecar", "mesh"]', "one of 'sidecar', 'adapter'"),
        ("patterns", "[]", "at least one of"),
        ("patterns", '{"sidecar": true}', "a list of pattern names"),
        ("patterns", "sidecar,adapter", "a list of pattern names"),
        ("busyboxImage", "busybox", "pinned to a tag or digest"),
        ("nginxImage", "nginx:latest", "'latest' changes under the lab"),
        ("dbImage", "Redis:7!", "an image reference"),
        ("tlsAlgorithm", "DSA", "one of 'ECDSA', 'RSA'"),
        ("tlsEcdsaCurve", "P224", "one of 'P256', 'P384', 'P521'"),
        ("tlsRsaBits", "1024", "one of 2048, 3072, 4096"),
        ("tlsRsaBits", "many", "a whole number"),
        ("tlsValidityHours", "0", "greater than zero"),
        ("tlsValidityHours", "-5", "greater than zero"),
        ("awaitTimeoutSeconds", "0", "greater than zero"),
        ("awaitTimeoutSeconds", "ten", "whole number"),
        ("tlsEarlyRenewalHours", "-1", "zero or more"),
        ("tlsEarlyRenewalHours", "720", "fewer hours than tlsValidityHours"),
        ("cpuRequest", "ten", "Kubernetes quantity"),
        ("memoryLimit", "0Mi", "greater than zero"),
        ("cpuRequest", "2", "at most 'cpuLimit'"),
        ("nativeSidecar", "yes", "true or false"),
        ("failingInit", "1", "true or false"),
        ("podSecurity", "strict", "one of 'restricted', 'baseline', 'privileged'"),
        ("networkPolicies", "off", "true or false"),
    ],
)
def test_a_bad_setting_fails_naming_it_before_any_resource_is_registered(
    setting: str, value: str, expected: str
) -> None:
    run = run_program({setting: value}, expect_error=True)
    assert isinstance(run.error, pulumi.RunError)
    message = str(run.error)
    assert f"'{setting}'" in message
    assert expected in message
    assert run.resources == []


def test_rsa_keys_take_the_configured_size() -> None:
    key = run_program({"tlsAlgorithm": "RSA", "tlsRsaBits": "3072"}).one("tls:index/privateKey:PrivateKey")
    assert key.inputs["algorithm"] == "RSA"
    assert key.inputs["rsaBits"] == 3072
    assert "ecdsaCurve" not in key.inputs


def test_the_readme_names_registered_patterns_in_their_order() -> None:
    """The README's `patterns` row lists the patterns a user can set: registered ones, in the
    registry's order (a pattern registered later may be missing there, not misnamed)."""
    readme = (ROOT / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `patterns` |"))
    named = re.findall(r"`([a-z-]+)`", row.split("any of", 1)[1].split(".", 1)[0])
    assert named
    assert named == [pattern for pattern in PATTERNS if pattern in named]


def test_every_experiment_is_turned_on_by_a_declared_setting_its_warning_names() -> None:
    experiments = [experiment for pattern in REGISTRY for experiment in pattern.experiments]
    assert experiments
    for experiment in experiments:
        assert experiment.setting in DEFAULTS, experiment.setting
        assert experiment.warning.startswith(f"{experiment.setting}="), experiment.warning
