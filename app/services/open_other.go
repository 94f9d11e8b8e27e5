//go:build !unix

package services

import "os"

// openRegular opens path for reading; the caller checks the opened file is regular.
func openRegular(path string) (*os.File, error) { return os.Open(path) }
