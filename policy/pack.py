"""The policies of the pack: :mod:`rules` adapted to ``pulumi_policy``.

``__main__.py`` serves these policies; tests import them without an engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)

try:  # imported as `policy.pack` (tests)
    from . import rules
except ImportError:  # run by the analyzer, with the pack's directory on sys.path
    import rules  # type: ignore[no-redef]

PACK_NAME = "multi-container-patterns"

_UNKNOWN_SENTINELS = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)


def to_plain(value: Any) -> Any:
    """``args.props`` as plain dicts and lists, with :data:`rules.UNKNOWN` for unknown values.

    pulumi_policy wraps props in proxies that raise ``UnknownValueError`` when an unknown value
    is read, which turns the whole policy into an advisory "can't run during preview" notice.
    Reading the proxies' targets instead lets a check skip only the unknown parts and still
    judge everything that is known.
    """
    if isinstance(value, str):
        return rules.UNKNOWN if value in _UNKNOWN_SENTINELS else value
    if isinstance(value, Mapping):
        target = getattr(value, "_DictProxy__target", value)
        return {key: to_plain(item) for key, item in target.items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        target = getattr(value, "_ListProxy__target", value)
        return [to_plain(item) for item in target]
    return value


def _config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    return {key: value for key, value in (config or {}).items() if key != "enforcementLevel"}


def _resource_policy(rule: rules.Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        props = to_plain(args.props)
        for message in rule.check(args.resource_type, props, _config(args.get_config()), name=args.name):
            report_violation(message, None)

    schema = None
    if rule.name in rules.DEFAULTS:
        schema = PolicyConfigSchema(properties=CONFIG_SCHEMAS[rule.name])
    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=schema,
        remediation_steps=rule.remediation,
    )


def _stack_policy(rule: rules.StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            rules.StackResource(
                type=resource.resource_type,
                name=resource.name,
                urn=resource.urn,
                props=to_plain(resource.props),
                property_dependencies={
                    key: [dependency.urn for dependency in dependencies]
                    for key, dependencies in resource.property_dependencies.items()
                },
            )
            for resource in args.resources
        ]
        for urn, message in rule.check(resources, _config(args.get_config())):
            report_violation(message, urn)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        remediation_steps=rule.remediation,
    )


_VERSION_PATTERN = r"^v?[0-9]+\.[0-9]+(\.[0-9]+)?$"

CONFIG_SCHEMAS: dict[str, dict[str, dict[str, Any]]] = {
    rules.NATIVE_SIDECAR_VERSION: {
        rules.MINIMUM_KUBERNETES_VERSION: {
            "type": "string",
            "pattern": _VERSION_PATTERN,
            "default": rules.DEFAULTS[rules.NATIVE_SIDECAR_VERSION][rules.MINIMUM_KUBERNETES_VERSION],
            "description": "First Kubernetes version that runs native sidecars.",
        },
        rules.TARGET_KUBERNETES_VERSION: {
            "type": "string",
            "pattern": _VERSION_PATTERN,
            "default": rules.DEFAULTS[rules.NATIVE_SIDECAR_VERSION][rules.TARGET_KUBERNETES_VERSION],
            "description": "Kubernetes version of the cluster the stack deploys to.",
        },
    },
    rules.NAMESPACE_POD_SECURITY: {
        rules.MINIMUM_LEVEL: {
            "type": "string",
            "enum": list(rules.POD_SECURITY_LEVELS),
            "default": rules.DEFAULTS[rules.NAMESPACE_POD_SECURITY][rules.MINIMUM_LEVEL],
            "description": "Least strict Pod Security Standard a namespace may enforce.",
        },
    },
    rules.RECOMMENDED_LABELS: {
        rules.REQUIRED_LABELS: {
            "type": "array",
            "items": {"type": "string"},
            "default": rules.DEFAULTS[rules.RECOMMENDED_LABELS][rules.REQUIRED_LABELS],
            "description": "Labels every workload and pod template must carry.",
        },
    },
}

POLICIES: list[Policy] = [
    *(_resource_policy(rule) for rule in rules.RULES),
    *(_stack_policy(rule) for rule in rules.STACK_RULES),
]
