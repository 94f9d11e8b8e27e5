package store

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestMain doubles as the helper process for the lock and crash tests.
func TestMain(m *testing.M) {
	switch os.Getenv("SATCHEL_STORE_HELPER") {
	case "hold":
		w, err := Open(os.Getenv("SATCHEL_STORE_DIR"), Options{})
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		fmt.Println("READY")
		time.Sleep(30 * time.Second)
		w.Close()
		os.Exit(0)
	case "writer":
		w, err := Open(os.Getenv("SATCHEL_STORE_DIR"), Options{})
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		for i := 0; ; i++ {
			if err := w.Put(BucketJobs, fmt.Sprintf("job-%06d", i), map[string]any{"n": i, "pad": strings.Repeat("x", 512)}); err != nil {
				fmt.Println("ERR", err)
				os.Exit(1)
			}
			fmt.Println("COMMITTED", i)
		}
	}
	os.Exit(m.Run())
}

func helper(t *testing.T, mode, dir string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SATCHEL_STORE_HELPER="+mode, "SATCHEL_STORE_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, bufio.NewScanner(out)
}

func TestCRUDAndSettings(t *testing.T) {
	w, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.SchemaVersion() != SchemaVersion {
		t.Fatalf("schema %d", w.SchemaVersion())
	}
	type item struct{ A string }
	if err := w.Put(BucketAssets, "a", item{"x"}); err != nil {
		t.Fatal(err)
	}
	var got item
	if err := w.Get(BucketAssets, "a", &got); err != nil || got.A != "x" {
		t.Fatalf("get: %v %+v", err, got)
	}
	if err := w.Get(BucketAssets, "missing", &got); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	id1, _ := w.Append(BucketLedger, item{"1"})
	id2, _ := w.Append(BucketLedger, item{"2"})
	recs, _ := w.List(BucketLedger)
	if len(recs) != 2 || recs[0].ID != id1 || recs[1].ID != id2 {
		t.Fatalf("append order: %+v", recs)
	}
	w.Delete(BucketAssets, "a")
	if err := w.Get(BucketAssets, "a", &got); !errors.Is(err, ErrNotFound) {
		t.Fatal("delete failed")
	}
	s, _ := w.Settings()
	s.Theme, s.LastScreen = "dark", "Verify"
	w.SaveSettings(s)
	if s2, _ := w.Settings(); s2.Theme != "dark" || s2.LastScreen != "Verify" {
		t.Fatalf("settings %+v", s2)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if err := w.Put(BucketJobs, fmt.Sprintf("%d-%d", g, i), item{"x"}); err != nil {
					t.Error(err)
				}
			}
		}(g)
	}
	wg.Wait()
	if recs, _ := w.List(BucketJobs); len(recs) != 200 {
		t.Fatalf("concurrent puts: %d records", len(recs))
	}
}

func TestSecretsNeverInPlaintext(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("TOP-SECRET-content-key-0123456789abcdef")
	key := []byte{0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x10, 0x32, 0x54, 0x76}
	w.PutSecret("keyset/1", secret)
	w.PutSecret("keyset/2", key)
	if got, err := w.GetSecret("keyset/1"); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("GetSecret: %v", err)
	}
	w.Close()
	db, _ := os.ReadFile(filepath.Join(dir, DBFile))
	for _, needle := range [][]byte{secret, key, []byte(hex.EncodeToString(key)), []byte(base64.StdEncoding.EncodeToString(key))} {
		if bytes.Contains(db, needle) {
			t.Fatalf("plaintext %q found in %s", needle, DBFile)
		}
	}
	assertKeyFileProtected(t, dir)
}

func TestPassphrase(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, Options{Passphrase: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	w.PutSecret("s", []byte("v"))
	w.Close()
	if _, err := Open(dir, Options{Passphrase: "wrong"}); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrPassphraseRequired) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("missing passphrase: %v", err)
	}
	w, err = Open(dir, Options{Passphrase: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := w.GetSecret("s"); err != nil || string(v) != "v" {
		t.Fatalf("secret after reopen: %v", err)
	}
	if err := w.ChangePassphrase(""); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if w, err = Open(dir, Options{}); err != nil {
		t.Fatalf("after removing the passphrase: %v", err)
	}
	w.Close()
}

func TestInUseByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd, sc := helper(t, "hold", dir)
	if !sc.Scan() || sc.Text() != "READY" {
		t.Fatalf("helper: %s", sc.Text())
	}
	start := time.Now()
	_, err := Open(dir, Options{})
	var inUse *InUseError
	if !errors.As(err, &inUse) {
		t.Fatalf("second open: %v", err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Fatalf("second open took %s, want ≤ 1.5 s", d)
	}
	if inUse.PID != cmd.Process.Pid || !strings.Contains(err.Error(), strconv.Itoa(cmd.Process.Pid)) {
		t.Fatalf("PID %d in %q, want %d", inUse.PID, err, cmd.Process.Pid)
	}
}

func TestKilledWriterLosesNothingCommitted(t *testing.T) {
	dir := t.TempDir()
	cmd, sc := helper(t, "writer", dir)
	last := -1
	for sc.Scan() {
		line := sc.Text()
		if n, ok := strings.CutPrefix(line, "COMMITTED "); ok {
			last, _ = strconv.Atoi(n)
			if last >= 300 {
				break
			}
		} else {
			t.Fatalf("writer: %s", line)
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	w, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := 0; i <= last; i++ {
		var v map[string]any
		if err := w.Get(BucketJobs, fmt.Sprintf("job-%06d", i), &v); err != nil {
			t.Fatalf("committed record %d lost after kill: %v", i, err)
		}
	}
	err = w.DB().View(func(tx *bolt.Tx) error {
		for e := range tx.Check() {
			return e
		}
		return nil
	})
	if err != nil {
		t.Fatalf("database inconsistent after kill: %v", err)
	}
}

func TestMigrationV1(t *testing.T) {
	dir := t.TempDir()
	// Build a v1 workspace by hand: schema 1, a key set with a plaintext key.
	db, err := bolt.Open(filepath.Join(dir, DBFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	v1 := `{"name":"legacy","created":"2026-01-01T00:00:00Z","keys":[{"track_type":"SD","kid":"10203040-5060-7080-90a0-b0c0d0e0f001","key":"00112233445566778899aabbccddeeff"}]}`
	db.Update(func(tx *bolt.Tx) error {
		m, _ := tx.CreateBucket([]byte(BucketMeta))
		m.Put([]byte("schema_version"), []byte("1"))
		k, _ := tx.CreateBucket([]byte(BucketKeySets))
		return k.Put([]byte("ks1"), []byte(v1))
	})
	db.Close()
	w, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.SchemaVersion() != 2 {
		t.Fatalf("schema after migration %d", w.SchemaVersion())
	}
	var ks MigratedKeySet
	if err := w.Get(BucketKeySets, "ks1", &ks); err != nil || ks.Name != "legacy" || len(ks.KIDs) != 1 {
		t.Fatalf("migrated key set %+v %v", ks, err)
	}
	raw, _ := w.List(BucketKeySets)
	if bytes.Contains(raw[0].Data, []byte("00112233445566778899aabbccddeeff")) {
		t.Fatal("key material still in the keysets bucket")
	}
	sec, err := w.GetSecret("keyset/ks1")
	if err != nil || !bytes.Contains(sec, []byte("00112233445566778899aabbccddeeff")) {
		t.Fatalf("key not moved to secrets: %v", err)
	}
	var keys []map[string]string
	json.Unmarshal(sec, &keys)
	if len(keys) != 1 || keys[0]["track_type"] != "SD" {
		t.Fatalf("secret %s", sec)
	}
	// The freed pages that held the v1 plaintext must not survive in the file.
	file, err := os.ReadFile(filepath.Join(dir, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, []byte("00112233445566778899aabbccddeeff")) {
		t.Fatal("v1 plaintext key still readable in satchel.db after migration")
	}
}

func TestChangePassphraseFrom(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, Options{Passphrase: "old one"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() }) // the last workspace opened below (Windows cannot delete an open file)
	if err := w.PutSecret("s", []byte("payload")); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.ChangePassphraseFrom("not it", "new one"); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("wrong old passphrase: got %v, want ErrPassphrase", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, KeyFile))
	if !bytes.Equal(before, after) {
		t.Fatal("a rejected change rewrote the key file")
	}
	if err := w.ChangePassphraseFrom("old one", "new one"); err != nil {
		t.Fatal(err)
	}
	assertKeyFileProtected(t, dir)
	w.Close()
	if _, err := Open(dir, Options{Passphrase: "old one"}); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("old passphrase still works: %v", err)
	}
	w, err = Open(dir, Options{Passphrase: "new one"})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := w.GetSecret("s"); err != nil || string(v) != "payload" {
		t.Fatalf("secret after change: %q %v", v, err)
	}
}

// TestMissingDataKeyIsAnError reproduces issue 16: a deleted satchel.key was silently replaced
// by a new key, leaving a workspace that mixed two data keys.
func TestMissingDataKeyIsAnError(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.PutSecret("keyset/x", []byte("content keys")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	keyPath := filepath.Join(dir, KeyFile)
	saved, _ := os.ReadFile(keyPath)
	os.Remove(keyPath)
	_, err = Open(dir, Options{})
	var missing *DataKeyMissingError
	if !errors.As(err, &missing) || !strings.Contains(err.Error(), "restore satchel.key from your backup") ||
		!strings.Contains(err.Error(), "new workspace") {
		t.Fatalf("open without the key: %v", err)
	}
	if _, err := os.Stat(keyPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a new data key was made")
	}
	// Another workspace's key is refused too.
	other := t.TempDir()
	ow, err := Open(other, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ow.Close()
	foreign, _ := os.ReadFile(filepath.Join(other, KeyFile))
	os.WriteFile(keyPath, foreign, 0o600)
	var mismatch *DataKeyMismatchError
	if _, err := Open(dir, Options{}); !errors.As(err, &mismatch) {
		t.Fatalf("open with another workspace's key: %v", err)
	}
	// Restoring the backup brings everything back.
	os.WriteFile(keyPath, saved, 0o600)
	w, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if v, err := w.GetSecret("keyset/x"); err != nil || string(v) != "content keys" {
		t.Fatalf("secret after restore: %q %v", v, err)
	}
}

// TestUpdateIsOneTransaction: a crash between two writes of one operation (simulated by
// failing the second) leaves the old state.
func TestUpdateIsOneTransaction(t *testing.T) {
	w, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Update(func(tx *Tx) error {
		if err := tx.PutSecret("keyset/a", []byte("k")); err != nil {
			return err
		}
		return tx.Put(BucketKeySets, "a", map[string]string{"name": "a"})
	}); err != nil {
		t.Fatal(err)
	}
	crash := errors.New("killed")
	writes := 0
	w.SetWriteHook(func(op string) error {
		if writes++; writes == 2 {
			return crash
		}
		return nil
	})
	err = w.Update(func(tx *Tx) error {
		if err := tx.DeleteSecret("keyset/a"); err != nil {
			return err
		}
		return tx.Delete(BucketKeySets, "a")
	})
	if !errors.Is(err, crash) {
		t.Fatalf("update: %v", err)
	}
	w.SetWriteHook(nil)
	var meta map[string]string
	if err := w.Get(BucketKeySets, "a", &meta); err != nil {
		t.Fatalf("metadata lost: %v", err)
	}
	if v, err := w.GetSecret("keyset/a"); err != nil || string(v) != "k" {
		t.Fatalf("secret lost: %v", err)
	}
}

func TestProtected(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if w.Protected() {
		t.Fatal("a workspace without a passphrase is protected")
	}
	w.ChangePassphrase("pw")
	if !w.Protected() {
		t.Fatal("a workspace with a passphrase is not protected")
	}
	w.Close()
}

func TestAppendKeep(t *testing.T) {
	w, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := 1; i <= 12; i++ {
		if _, err := w.AppendKeep(BucketLedger, map[string]int{"n": i}, 5); err != nil {
			t.Fatal(err)
		}
	}
	recs, _ := w.List(BucketLedger)
	if len(recs) != 5 || !strings.Contains(string(recs[0].Data), `"n":8`) || !strings.Contains(string(recs[4].Data), `"n":12`) {
		t.Fatalf("kept %d records, first %s", len(recs), recs[0].Data)
	}
	// Lowering the bound trims at the next append; keep ≤ 0 keeps everything.
	w.AppendKeep(BucketLedger, map[string]int{"n": 13}, 2)
	if recs, _ = w.List(BucketLedger); len(recs) != 2 {
		t.Fatalf("kept %d, want 2", len(recs))
	}
	for i := 0; i < 3; i++ {
		w.AppendKeep(BucketLedger, map[string]int{"n": 14 + i}, 0)
	}
	if recs, _ = w.List(BucketLedger); len(recs) != 5 {
		t.Fatalf("keep 0 kept %d, want 5", len(recs))
	}
	if err := (Settings{LedgerKeep: 10}).Validate(); err == nil {
		t.Fatal("LedgerKeep 10 accepted")
	}
}
