//go:build linux

package encode

import "syscall"

// setParentDeathSignal asks Linux to kill the encoder if Satchel itself dies (a crash or a
// kill -9 leaves no orphaned ffmpeg burning the CPU).
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
