//go:build tools

// Package tools pins the etcd server main package (go.etcd.io/etcd/server/v3)
// so that `go build` can build it from this module.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)
