//go:build !unix

package publish

import "errors"

// mkfifo: named pipes are a Unix matter; the tests that need one skip on this platform.
func mkfifo(path string) error { return errors.ErrUnsupported }
