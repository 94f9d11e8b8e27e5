package cli

import (
	"fmt"
	"strings"

	"satchel/app/services"
	"satchel/engine/license"
)

func init() {
	register(&command{
		name:    "serve",
		summary: "Run the embedded license server (ClearKey + test license endpoints) and the demo player.",
		usage:   "satchel serve [--addr 127.0.0.1:8787] [--content DIR] [--policy NAME] [--tls-cert FILE --tls-key FILE] [--ledger-keep N] [--workspace DIR]",
		run:     runServe,
	})
}

func runServe(e *env, args []string) error {
	fs := newFlags(e, commands["serve"])
	addr := fs.String("addr", "", "listen address (default from settings: 127.0.0.1:8787); EME needs HTTPS off localhost")
	content := fs.String("content", "", "a package folder to serve at /content/ for the demo player (its keys.cpix.xml is loaded)")
	pol := fs.String("policy", "", "policy (name in the workspace or preset) the licenses follow; default: none (open)")
	cert := fs.String("tls-cert", "", "TLS certificate (PEM) for HTTPS")
	key := fs.String("tls-key", "", "TLS private key (PEM) for HTTPS")
	keep := fs.Int("ledger-keep", 0, "ledger entries kept, the oldest dropped as licenses are issued "+
		"(default: the workspace setting, else 100000)")
	wsDir := workspaceFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("serve takes no arguments (use --content DIR)")
	}
	if (*cert == "") != (*key == "") {
		return usagef("give both --tls-cert and --tls-key for HTTPS")
	}
	svc, err := openWorkspace(e, *wsDir)
	if err != nil {
		return err
	}
	defer svc.Close()
	opts := services.LicenseOptions{Addr: *addr, ContentDir: *content, Policy: *pol, TLSCert: *cert, TLSKey: *key,
		LedgerKeep: *keep}
	url, err := svc.StartLicenseServer(e.ctx, opts)
	if err != nil {
		return &InputError{Err: err}
	}
	fmt.Fprintf(e.stdout, "Satchel license server on %s\n", url)
	fmt.Fprintf(e.stdout, "  ClearKey (W3C EME):  POST %s/clearkey\n", url)
	fmt.Fprintf(e.stdout, "  Test licenses:       POST %s/license/{widevine,playready,fairplay}  (Satchel test protocol, docs/license-protocol.md)\n", url)
	if *content != "" {
		fmt.Fprintf(e.stdout, "  Demo player:         %s/player/\n", url)
	}
	fmt.Fprintln(e.stdout, "Press Ctrl+C to stop. Every license issued is recorded in the workspace ledger.")
	ledger, stop := svc.SubscribeLedger()
	defer stop()
	for {
		select {
		case <-e.ctx.Done():
			return nil
		case en := <-ledger:
			fmt.Fprintf(e.stdout, "%s  %-9s %-13s persistent=%-5v KIDs %v%s\n", en.Time.Format("15:04:05"), en.System, en.Type,
				en.Persistent, en.KIDs, ledgerExtra(en))
		}
	}
}

// ledgerExtra is what a (simulated) device adds to a ledger line: the device, the scenario
// time, and a decision other than issued with the clock and the reason.
func ledgerExtra(en license.Entry) string {
	var b strings.Builder
	if en.Device != "" {
		b.WriteString("  device " + en.Device)
	}
	if en.ScenarioTime != "" {
		b.WriteString(" at " + en.ScenarioTime)
	}
	if en.Decision != "" && en.Decision != license.DecisionIssued {
		b.WriteString("  " + string(en.Decision))
		if en.Clock != "" {
			b.WriteString(" (" + en.Clock + ")")
		}
		if en.Reason != "" {
			b.WriteString(": " + en.Reason)
		}
	}
	return b.String()
}
