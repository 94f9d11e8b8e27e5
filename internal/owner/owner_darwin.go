package owner

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// startTime returns the process's start time (seconds.microseconds) from kern.proc.pid. For a
// process that does not exist, macOS answers with no record (unix.EIO here).
func startTime(pid int) (string, error) {
	k, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if errors.Is(err, unix.EIO) || errors.Is(err, unix.ESRCH) {
		return "", errNoProcess
	}
	if err != nil {
		return "", err
	}
	const zombie = 5 // SZOMB: ended, not reaped yet
	if k.Proc.P_stat == zombie || k.Proc.P_pid != int32(pid) {
		return "", errNoProcess
	}
	return fmt.Sprintf("%d.%06d", k.Proc.P_starttime.Sec, k.Proc.P_starttime.Usec), nil
}

// bootID is empty: a start time already differs across boots.
func bootID() string { return "" }
