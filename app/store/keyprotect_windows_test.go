//go:build windows

package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// assertKeyFileProtected checks the Windows protection of the key file: the data key is sealed
// (DPAPI, or a passphrase), never stored in the clear.
func assertKeyFileProtected(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	var kf keyFile
	if err := json.Unmarshal(b, &kf); err != nil {
		t.Fatal(err)
	}
	if kf.Key != nil {
		t.Fatal("the data key is stored in the clear on Windows")
	}
	if kf.Wrapped {
		return
	}
	if len(kf.DPAPI) == 0 {
		t.Fatal("the key file has neither a passphrase wrap nor a DPAPI seal")
	}
	key, err := unprotectDPAPI(kf.DPAPI)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, key) || bytes.Contains(kf.DPAPI, key) {
		t.Fatal("the plain data key appears in the key file")
	}
}

// TestDPAPISeal checks a new workspace's key file is DPAPI-sealed, and that DPAPI refuses a
// damaged blob with ErrKeySealed (not a panic, not a wrong key).
func TestDPAPISeal(t *testing.T) {
	dir := testDir(t)
	w, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.PutSecret("s", []byte("v")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	assertKeyFileProtected(t, dir)

	path := filepath.Join(dir, KeyFile)
	var kf keyFile
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &kf); err != nil {
		t.Fatal(err)
	}
	kf.DPAPI[len(kf.DPAPI)-1] ^= 0xff
	damaged, _ := json.Marshal(kf)
	if err := os.WriteFile(path, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrKeySealed) {
		t.Fatalf("open with a damaged DPAPI blob: got %v, want ErrKeySealed", err)
	}
}
