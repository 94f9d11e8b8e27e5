package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"satchel/app/services"
	"satchel/app/store"
)

// workspaceFlag adds --workspace to a command.
func workspaceFlag(fs *flag.FlagSet) *string {
	return fs.String("workspace", "", "workspace folder (default: the user config dir, or $SATCHEL_WORKSPACE)")
}

// openWorkspace opens the workspace for a command. The passphrase of a protected workspace
// comes from $SATCHEL_PASSPHRASE. A workspace held by another process (for example the open
// desktop app) is an input error with the holder's PID.
func openWorkspace(e *env, dir string) (*services.Service, error) {
	svc, err := services.Open(services.Options{Dir: dir, Passphrase: os.Getenv("SATCHEL_PASSPHRASE")})
	if err != nil {
		var inUse *store.InUseError
		if errors.As(err, &inUse) {
			return nil, &InputError{Err: err}
		}
		return nil, &InputError{Err: fmt.Errorf("open workspace: %w", err)}
	}
	return svc, nil
}
