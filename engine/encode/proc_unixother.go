//go:build unix && !linux

package encode

import "syscall"

// setParentDeathSignal has no equivalent outside Linux; cancellation still kills the group.
func setParentDeathSignal(*syscall.SysProcAttr) {}
