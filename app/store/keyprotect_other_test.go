//go:build !windows

package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// assertKeyFileProtected checks the Unix protection of the key file: mode 0600.
func assertKeyFileProtected(t *testing.T, dir string) {
	t.Helper()
	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
}

// TestDPAPIKeyFileOnUnix opens a workspace whose key was sealed on Windows: a clear ErrKeySealed
// that says what to do, and the key file untouched.
func TestDPAPIKeyFileOnUnix(t *testing.T) {
	dir := testDir(t)
	sealed := []byte(`{"version":1,"wrapped":false,"dpapi":"AQAAANCMnd8BFdERjHoAwE/Cl+sBAAAA"}`)
	if err := os.WriteFile(filepath.Join(dir, KeyFile), sealed, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, Options{})
	if !errors.Is(err, ErrKeySealed) {
		t.Fatalf("open: got %v, want ErrKeySealed", err)
	}
	for _, want := range []string{filepath.Join(dir, KeyFile), "Windows", "CPIX", "passphrase"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(dir, KeyFile)); !bytes.Equal(after, sealed) {
		t.Fatal("the sealed key file was changed")
	}
}
