//go:build tools

// Package tools keeps the provider module required. The install script copies
// the provider's main package (cmd/pulumi-resource-kubernetes: main.go,
// generate.go, schema.json, terraform-mapping.json) from the module cache into
// a writable copy of this module, generates schema-embed.json and
// terraform-mapping-embed.json there, and builds it.
package tools

import (
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)
