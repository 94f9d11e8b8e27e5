//go:build unix

package services

import (
	"os"
	"syscall"
)

// openRegular opens path for reading without blocking on a named pipe (O_NONBLOCK): the
// caller checks the opened file is regular.
func openRegular(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
