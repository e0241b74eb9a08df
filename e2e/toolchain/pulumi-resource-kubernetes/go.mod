module multi-container-patterns/e2e/toolchain/pulumi-resource-kubernetes

go 1.24.7

// provider/v4 go.mod has `replace github.com/pulumi/pulumi-kubernetes/sdk/v4 => ../sdk`,
// which is ignored for a dependency: point it at the published SDK module of the
// same release instead.
replace github.com/pulumi/pulumi-kubernetes/sdk/v4 => github.com/pulumi/pulumi-kubernetes/sdk/v4 v4.25.0

// Restated from github.com/pulumi/pulumi/pkg/v3 go.mod.
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e

require github.com/pulumi/pulumi-kubernetes/provider/v4 v4.0.0-20260115033456-f47bc2d6f199
