// Package version holds Satchel's version for every part that shows it (the CLI's --version
// and help, the GUI's About text). It has one source: FyneApp.toml, which main embeds and
// passes to Set before anything else runs; a release build may override it with
// -ldflags "-X main.version=1.2.3". Tests that do not go through main see "dev".
package version

import "sync/atomic"

var current atomic.Value // string

// Set records the version; main calls it once at start.
func Set(v string) { current.Store(v) }

// String returns the version, or "dev" when Set was not called (package tests).
func String() string {
	if v, ok := current.Load().(string); ok && v != "" {
		return v
	}
	return "dev"
}
