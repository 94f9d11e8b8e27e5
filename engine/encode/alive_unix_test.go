//go:build unix

package encode

import (
	"errors"
	"syscall"
)

// processAlive reports whether a process with this PID exists (a test helper's question,
// answered without signalling it).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
