// Command pulumi-tfgen-tls generates schema.json and bridge-metadata.json for
// pulumi-resource-tls (run by the install script: `pulumi-tfgen-tls schema --out DIR`).
//
// UPSTREAM_REPO_PATH may name the directory of the
// github.com/hashicorp/terraform-provider-tls module, whose docs/ then supply the
// descriptions in the schema.
package main

import (
	"os"

	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"multi-container-patterns/e2e/toolchain/pulumi-resource-tls/tlsinfo"
)

func main() {
	info := tlsinfo.Provider(nil)
	info.UpstreamRepoPath = os.Getenv("UPSTREAM_REPO_PATH")
	pftfgen.Main("tls", info)
}
