// Package bootlog holds what the standard logger writes while Go initialises packages, so
// that main can decide whether anyone should see it.
//
// Why: Fyne's lang package parses the user's locale in its package init and logs through
// the standard logger when it cannot (LANG=C.UTF-8 gives "Fyne error: Error parsing user
// locale C"). Every Satchel binary links Fyne, so without this every subcommand in a
// container would print that line although the CLI never uses the toolkit.
//
// How: Go initialises packages in import-path order, a package only after its imports
// (the Go spec, "Package initialization"). This package is a module of its own whose path,
// "bootlog", sorts before "fyne.io/…", and it imports only what Fyne itself needs first (log,
// os, sync), so its init runs before Fyne's and redirects the logger into a buffer. main
// then calls Release: a subcommand drops what was held, the GUI replays it, so the GUI's
// behaviour and translations are untouched.
package bootlog

import (
	"bytes"
	"log"
	"os"
	"strings"
	"sync"
)

var (
	mu   sync.Mutex
	held bytes.Buffer
	done bool
)

// writer collects log output until Release.
type writer struct{}

func (writer) Write(p []byte) (int, error) {
	mu.Lock()
	defer mu.Unlock()
	return held.Write(p)
}

func init() { log.SetOutput(writer{}) }

// Release points the standard logger back at os.Stderr. With replay, what was logged during
// initialisation is written there first, except Fyne's complaint about the POSIX locale
// (LANG=C, C.UTF-8 or POSIX: no locale, so Fyne's English fallback is what the user asked
// for); without replay, it is dropped. Later calls do nothing.
func Release(replay bool) {
	mu.Lock()
	defer mu.Unlock()
	if done {
		return
	}
	done = true
	if replay && held.Len() > 0 {
		os.Stderr.WriteString(withoutPOSIXLocale(held.String()))
	}
	held.Reset()
	log.SetOutput(os.Stderr)
}

// withoutPOSIXLocale drops Fyne's "Error parsing user locale C" (or POSIX) entry and its
// indented Cause/At lines from logged text.
func withoutPOSIXLocale(logged string) string {
	var b strings.Builder
	dropping := false
	for _, line := range strings.SplitAfter(logged, "\n") {
		trimmed := strings.TrimRight(line, "\n")
		switch {
		case strings.HasSuffix(trimmed, "Error parsing user locale C") ||
			strings.HasSuffix(trimmed, "Error parsing user locale POSIX"):
			dropping = true
			continue
		case dropping && (strings.Contains(trimmed, "  Cause: ") || strings.Contains(trimmed, "  At: ")):
			continue
		}
		dropping = false
		b.WriteString(line)
	}
	return b.String()
}

// Held returns what was logged during initialisation and not yet released (for tests).
func Held() string {
	mu.Lock()
	defer mu.Unlock()
	return held.String()
}
