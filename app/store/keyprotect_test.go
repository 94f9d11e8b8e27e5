package store

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// testDir is t.TempDir for the key-protection tests, removed file by file: these tests also run
// under Wine in the Windows smoke test (scripts/windows/smoke.sh), and Wine 8.0 rejects the
// delete call os.RemoveAll makes on Windows (FileDispositionInformationEx), which real Windows
// 10+ accepts. A file left open still fails the test: its folder cannot be removed on Windows.
func testDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "satchel-store-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var dirs []string
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			} else if err == nil {
				_ = os.Remove(p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := os.Remove(dirs[i]); err != nil {
				t.Errorf("remove the test folder (a file left open?): %v", err)
			}
		}
	})
	return dir
}

// TestUnixPlainKeyFileOpens opens a workspace whose key file has the plain form that Unix
// writes (and every version before DPAPI sealing): it must open on every platform, with the
// secrets intact. On Unix the file is left byte for byte as it was; on Windows it is resealed
// with DPAPI (checked by assertKeyFileProtected).
func TestUnixPlainKeyFileOpens(t *testing.T) {
	dir := testDir(t)
	w, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.PutSecret("keyset/1", []byte("content key")); err != nil {
		t.Fatal(err)
	}
	plain, err := json.Marshal(keyFile{Version: 1, Key: w.dataKey})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	path := filepath.Join(dir, KeyFile)
	if err := os.WriteFile(path, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	w, err = Open(dir, Options{})
	if err != nil {
		t.Fatalf("open with a Unix plain key file: %v", err)
	}
	defer w.Close()
	if v, err := w.GetSecret("keyset/1"); err != nil || string(v) != "content key" {
		t.Fatalf("secret after reopening: %q %v", v, err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if platformSealsPlainKey == bytes.Equal(after, plain) {
		t.Fatalf("key file rewritten=%v, want %v (platform seals plain keys: %v)", !bytes.Equal(after, plain),
			platformSealsPlainKey, platformSealsPlainKey)
	}
	assertKeyFileProtected(t, dir)
}

// TestReadOnlyOpenLeavesKeyFile checks that a read-only open never rewrites the key file, even
// where the platform would reseal a plain key.
func TestReadOnlyOpenLeavesKeyFile(t *testing.T) {
	dir := testDir(t)
	w, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := json.Marshal(keyFile{Version: 1, Key: w.dataKey})
	w.Close()
	path := filepath.Join(dir, KeyFile)
	if err := os.WriteFile(path, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	w, err = Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if after, _ := os.ReadFile(path); !bytes.Equal(after, plain) {
		t.Fatal("a read-only open rewrote the key file")
	}
}

// TestPassphraseKeyFileIsPortable checks that a passphrase-wrapped key file holds no
// platform-sealed part, so it opens on any system.
func TestPassphraseKeyFileIsPortable(t *testing.T) {
	dir := testDir(t)
	w, err := Open(dir, Options{Passphrase: "pass phrase"})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	var kf keyFile
	b, _ := os.ReadFile(filepath.Join(dir, KeyFile))
	if err := json.Unmarshal(b, &kf); err != nil {
		t.Fatal(err)
	}
	if !kf.Wrapped || kf.Key != nil || kf.DPAPI != nil || len(kf.Sealed) == 0 {
		t.Fatalf("passphrase key file: wrapped=%v key=%d dpapi=%d sealed=%d", kf.Wrapped, len(kf.Key), len(kf.DPAPI),
			len(kf.Sealed))
	}
}
