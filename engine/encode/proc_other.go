//go:build !unix && !windows

package encode

import "os/exec"

// setProcessGroup makes cancellation kill the encoder by PID.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.Cancel = func() error { return cmd.Process.Kill() }
}
