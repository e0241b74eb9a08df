// Package shim exposes the Terraform TLS provider (a Plugin Framework provider
// kept in an internal package) to the Pulumi bridge.
package shim

import (
	"github.com/hashicorp/terraform-plugin-framework/provider"
	tls "github.com/hashicorp/terraform-provider-tls/internal/provider"
)

// NewProvider returns a new instance of the upstream TLS provider.
func NewProvider() provider.Provider { return tls.New() }
