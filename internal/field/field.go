// Package field reports what is wrong with one field of a request or configuration. Lower
// layers (packaging, publish, app/services) return a *field.Error that names the field and
// says what is wrong; the edge phrases the fix in its own words: the CLI names its flag
// (--segment), the GUI its form label (Segment duration). Nothing here knows either.
package field

import (
	"fmt"
	"strings"
)

// Error says that the value of one named field is not acceptable.
type Error struct {
	// Field is the field's name as the request spells it in JSON, e.g. "segment_duration".
	Field string
	// Value is the offending value as given; empty when the field is missing.
	Value string
	// Reason says what is wrong (lowercase, no final period), e.g. "must be 0.5s to 30s".
	Reason string
}

// Errorf returns an *Error for name with the value v (formatted with %v; nil or "" for a
// missing value) and a reason built from format and args.
func Errorf(name string, v any, format string, args ...any) *Error {
	val := ""
	if v != nil {
		val = fmt.Sprint(v)
	}
	return &Error{Field: name, Value: val, Reason: fmt.Sprintf(format, args...)}
}

// Error reads "segment duration 45s: must be 0.5s to 30s" (the field name with spaces).
func (e *Error) Error() string {
	name := strings.ReplaceAll(e.Field, "_", " ")
	if e.Value == "" {
		return name + ": " + e.Reason
	}
	return fmt.Sprintf("%s %s: %s", name, e.Value, e.Reason)
}
