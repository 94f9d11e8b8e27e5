// Package bug turns a panic in Satchel's own code into an error that says it is a bug: a
// *Error carries the panic value and the stack so the edge can print a message asking the
// user to report it (the CLI exits 3, the job runner fails the job with it). It is not for
// malformed input: third-party decoders on untrusted bytes go through internal/mp4safe, whose
// errors are input errors.
package bug

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// ReportURL is where users report bugs.
const ReportURL = "https://github.com/satchel-drm/satchel/issues"

// Error is a panic recovered in Satchel's own code: a bug, never an input problem.
type Error struct {
	// Value is what the code panicked with.
	Value any
	// Stack is the goroutine's stack at the panic (runtime/debug.Stack).
	Stack []byte
}

func (e *Error) Error() string {
	return fmt.Sprintf("internal error: %v; this is a bug in Satchel, please report it at %s "+
		"with the command you ran and the stack trace", e.Value, ReportURL)
}

// Unwrap returns the panic value when it is an error (a runtime.Error, for example).
func (e *Error) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}

// Recover, deferred directly, turns a panic of the current goroutine into a *Error stored in
// *err (overwriting it). Without a panic it does nothing:
//
//	func run() (err error) {
//		defer bug.Recover(&err)
//		…
//	}
func Recover(err *error) {
	if p := recover(); p != nil {
		*err = &Error{Value: p, Stack: debug.Stack()}
	}
}

// Capture makes a *Error from a value recovered by the caller's own recover() (for handlers
// that must also write a response).
func Capture(p any) *Error { return &Error{Value: p, Stack: debug.Stack()} }

// Is reports whether err is or wraps a *Error.
func Is(err error) bool {
	var b *Error
	return errors.As(err, &b)
}

// As returns the *Error err is or wraps.
func As(err error) (*Error, bool) {
	var b *Error
	ok := errors.As(err, &b)
	return b, ok
}
