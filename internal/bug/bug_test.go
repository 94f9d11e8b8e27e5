package bug

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestRecover(t *testing.T) {
	run := func() (err error) {
		defer Recover(&err)
		var m map[string]int
		m["x"]++
		return nil
	}
	err := run()
	b, ok := As(err)
	if !ok || !Is(err) || len(b.Stack) == 0 || !strings.Contains(err.Error(), "please report it") {
		t.Fatalf("got %v", err)
	}
	var re runtime.Error
	if !errors.As(err, &re) {
		t.Fatal("the runtime error is not reachable through Unwrap")
	}
	fine := func() (err error) {
		defer Recover(&err)
		return errors.New("input")
	}
	if err := fine(); Is(err) || err.Error() != "input" {
		t.Fatalf("no panic: %v", err)
	}
}
