//go:build !linux && !windows && !darwin

package owner

// startTime is unsupported here: owners are Unknown, so nothing is ever removed as stale.
func startTime(pid int) (string, error) { return "", errUnsupported }

func bootID() string { return "" }
