// Command pulumi-tfgen-tls generates schema.json and bridge-metadata.json for
// pulumi-resource-tls (run by the install script: `pulumi-tfgen-tls schema --out DIR`).
package main

import (
	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"multi-container-patterns/e2e/toolchain/pulumi-resource-tls/tlsinfo"
)

func main() {
	pftfgen.Main("tls", tlsinfo.Provider(nil))
}
