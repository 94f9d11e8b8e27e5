// Package owner records which process owns a temporary folder (its PID, the process's start
// time, the host and the boot) and tells whether that process still runs, so a later run can
// remove the leftovers of a killed one and never a live run's. It is not a lock.
package owner

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// File is the name of the record inside an owned folder.
const File = ".satchel-owner"

// Owner identifies a process across PID reuse and reboots.
type Owner struct {
	PID int `json:"pid"`
	// Start is the process's start time as the OS reports it (opaque; compared for equality).
	Start string `json:"start"`
	// Host is the machine's name: a folder on a shared drive may belong to another machine.
	Host string `json:"host"`
	// Boot identifies the boot of the machine (empty where the OS has no boot ID).
	Boot string `json:"boot,omitempty"`
}

// Self returns the current process's Owner.
func Self() (Owner, error) {
	host, err := os.Hostname()
	if err != nil {
		return Owner{}, fmt.Errorf("owner: host name: %w", err)
	}
	start, err := startTime(os.Getpid())
	if err != nil && !errors.Is(err, errUnsupported) {
		return Owner{}, fmt.Errorf("owner: start time of this process: %w", err)
	}
	return Owner{PID: os.Getpid(), Start: start, Host: host, Boot: bootID()}, nil
}

// State is what Check learns about an owner.
type State int

// The states.
const (
	// Unknown: another host, no record, or a platform that cannot tell; treat as alive.
	Unknown State = iota
	// Alive: the owner process runs.
	Alive
	// Gone: the owner process has ended (or the machine rebooted since).
	Gone
)

// Check tells whether o still runs on this machine.
func Check(o Owner) State {
	host, err := os.Hostname()
	if err != nil || o.Host != host || o.PID <= 0 || o.Start == "" {
		return Unknown
	}
	if b := bootID(); b != "" && o.Boot != "" && b != o.Boot {
		return Gone
	}
	start, err := startTime(o.PID)
	switch {
	case errors.Is(err, errNoProcess):
		return Gone
	case errors.Is(err, errUnsupported):
		return Unknown
	case err != nil:
		return Unknown
	case start != o.Start:
		return Gone // the PID now belongs to another process
	}
	return Alive
}

// Write records the current process as the owner of dir.
func Write(dir string) error {
	o, err := Self()
	if err != nil {
		return err
	}
	b, _ := json.Marshal(o)
	tmp := filepath.Join(dir, File+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("record the owner of %s: %w", dir, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, File)); err != nil {
		return fmt.Errorf("record the owner of %s: %w", dir, err)
	}
	return nil
}

// Read returns the owner recorded in dir (an error when there is no readable record).
func Read(dir string) (Owner, error) {
	var o Owner
	b, err := os.ReadFile(filepath.Join(dir, File))
	if err != nil {
		return o, err
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return o, fmt.Errorf("owner record in %s: %w", dir, err)
	}
	return o, nil
}

// Stale reports whether dir holds an owner record whose process is gone. A folder without a
// record, with an unreadable one, or owned by a process that runs (or may run: another host)
// is not stale.
func Stale(dir string) bool {
	o, err := Read(dir)
	return err == nil && Check(o) == Gone
}

var (
	errNoProcess   = errors.New("no such process")
	errUnsupported = errors.New("process start times are not available on this platform")
)
