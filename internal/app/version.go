package app

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/parrainhq/parrain/internal/metrics"
)

// version and commit are set at link time by `make release`:
//
//	-ldflags "-X github.com/parrainhq/parrain/internal/app.version=v1.2.0 -X github.com/parrainhq/parrain/internal/app.commit=abc1234"
//
// Without them (go run, go build, go install) the module version and VCS
// revision the Go toolchain embedded are used.
var version, commit string

// Build returns the running binary's version, commit and Go version.
func Build() metrics.Build {
	b := metrics.Build{Version: version, Commit: commit, GoVersion: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		modified := false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if modified && commit == "" && b.Commit != "" {
			b.Commit += "-dirty"
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	return b
}

// printVersion is `parrain version`.
func printVersion(w io.Writer) {
	b := Build()
	fmt.Fprintf(w, "parrain %s\ncommit %s\n%s %s/%s\n", b.Version, b.Commit, b.GoVersion, runtime.GOOS, runtime.GOARCH)
}
