package field

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestError(t *testing.T) {
	cases := []struct {
		name string
		err  *Error
		want string
	}{
		{"with value", Errorf("segment_duration", 45*time.Second, "must be %s to %s", "500ms", "30s"),
			"segment duration 45s: must be 500ms to 30s"},
		{"missing", Errorf("out_dir", nil, "no output folder given"), "out dir: no output folder given"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.err.Error(); got != c.want {
				t.Fatalf("Error() = %q, want %q", got, c.want)
			}
			var fe *Error
			if !errors.As(fmt.Errorf("package: %w", c.err), &fe) || fe.Field != c.err.Field {
				t.Fatal("a wrapped *Error is not found with errors.As")
			}
		})
	}
}
