package cli

import (
	"flag"
	"fmt"
	"os"

	"satchel/app/services"
)

// workspaceFlag adds --workspace to a command.
func workspaceFlag(fs *flag.FlagSet) *string {
	return fs.String("workspace", "", "workspace folder (default: the user config dir, or $SATCHEL_WORKSPACE)")
}

// openWorkspace opens the workspace for a command that records something (package, verify,
// publish, keys, policy, serve). The passphrase of a protected workspace comes from
// $SATCHEL_PASSPHRASE. A workspace held by another process (for example the open desktop
// app) fails at once; explain says to close it or pass --workspace DIR.
func openWorkspace(e *env, dir string) (*services.Service, error) {
	svc, err := services.Open(services.Options{Dir: dir, Passphrase: os.Getenv("SATCHEL_PASSPHRASE")})
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("open workspace: %w", err)}
	}
	if svc.PassphraseUnused {
		fmt.Fprintf(e.stderr, "satchel: warning: SATCHEL_PASSPHRASE is set but workspace %s is not protected by a "+
			"passphrase, so it was not used; set one in the app's Settings, or unset SATCHEL_PASSPHRASE\n", svc.Dir)
	}
	return svc, nil
}
