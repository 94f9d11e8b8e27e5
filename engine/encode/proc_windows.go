//go:build windows

package encode

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts the command in a new process group (so a console Ctrl-C aimed at
// Satchel is Satchel's to handle) and makes cancellation terminate it. ffmpeg starts no child
// processes, so killing it by PID stops all the work.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
	cmd.Cancel = func() error { return cmd.Process.Kill() }
}
