// Command coredns is CoreDNS with only the plugins the local cluster's DNS
// uses, compiled in the way CoreDNS documents for a custom build: importing a
// plugin package registers it. Leaving out the cloud and database backends
// cuts the build to a fraction of the full binary's dependency tree.
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() {
	coremain.Run()
}
