// Command satchel is the Satchel offline-DRM workstation: a Fyne desktop app by default, and the
// same work headless through subcommands (probe, package, verify, publish, serve, keys, policy,
// inspect). Run `satchel help` for the command list.
package main

import (
	"context"
	_ "embed"
	"os"
	"os/signal"
	"regexp"
	"syscall"

	"bootlog"

	"satchel/app/cli"
	appversion "satchel/internal/version"
	"satchel/ui"
)

// fyneApp is the desktop app's metadata (fyne package reads the same file): the one source of
// the version.
//
//go:embed FyneApp.toml
var fyneApp string

// version, when set at build time, overrides FyneApp.toml's version:
// go build -ldflags "-X main.version=1.2.3".
var version string

func main() {
	args := os.Args[1:]
	gui := cli.IsGUI(args)
	// Only the GUI shows what the toolkit logged while starting (see bootlog).
	bootlog.Release(gui)
	appversion.Set(appVersion())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if gui {
		os.Exit(ui.Main(ctx, args))
	}
	os.Exit(cli.Run(ctx, args, os.Stdin, os.Stdout, os.Stderr))
}

// detailsVersion finds Version = "…" in FyneApp.toml's [Details] table.
var detailsVersion = regexp.MustCompile(`(?ms)^\[Details\].*?^Version\s*=\s*"([^"]+)"`)

// appVersion returns the -ldflags version, else FyneApp.toml's.
func appVersion() string {
	if version != "" {
		return version
	}
	if m := detailsVersion.FindStringSubmatch(fyneApp); m != nil {
		return m[1]
	}
	return ""
}
