//go:build !unix

package services

import "errors"

// mkfifo: named pipes are a Unix matter; the tests that need one skip on this platform.
func mkfifo(path string) error { return errors.ErrUnsupported }
