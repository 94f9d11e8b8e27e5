// Command satchel is the Satchel offline-DRM workstation: a Fyne desktop app by default, and the
// same work headless through subcommands (probe, package, verify, publish, serve, keys, policy,
// inspect). Run `satchel help` for the command list.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"satchel/app/cli"
	"satchel/ui"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cli.IsGUI(os.Args[1:]) {
		os.Exit(ui.Main(ctx, os.Args[1:]))
	}
	os.Exit(cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
