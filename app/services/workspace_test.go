package services

import (
	"context"
	"errors"
	"strings"
	"testing"

	"satchel/app/store"
	"satchel/engine/drm"
	"satchel/engine/license"
)

// TestKeysDeleteKilledMidway reproduces issue 16: `keys delete` removed the secret before the
// metadata, so a process killed in between left a key set that `keys list` and the license
// server could not read. The delete is one transaction now: failing its second write (as a
// kill would) leaves the whole key set, and the license server still serves it.
func TestKeysDeleteKilledMidway(t *testing.T) {
	s := open(t)
	ks, err := s.GenerateKeySet("show", nil)
	if err != nil {
		t.Fatal(err)
	}
	crash := errors.New("killed")
	for _, op := range []struct {
		name string
		run  func() error
	}{
		{"delete", func() error { return s.DeleteKeySet("show") }},
		{"save", func() error { _, err := s.GenerateKeySet("other", nil); return err }},
	} {
		t.Run(op.name, func(t *testing.T) {
			writes := 0
			s.WS.SetWriteHook(func(string) error {
				if writes++; writes == 2 {
					return crash
				}
				return nil
			})
			err := op.run()
			s.WS.SetWriteHook(nil)
			if !errors.Is(err, crash) {
				t.Fatalf("got %v, want the simulated crash", err)
			}
			sets, err := s.KeySets()
			if err != nil || len(sets) != 1 || sets[0].Name != "show" || len(sets[0].Keys) != len(ks.Keys) {
				t.Fatalf("key sets after the crash: %+v %v", sets, err)
			}
			if raw, _ := s.WS.List(store.BucketSecrets); len(raw) != 1 {
				t.Fatalf("%d secrets after the crash, want 1", len(raw))
			}
		})
	}
	url, err := s.StartLicenseServer(context.Background(), LicenseOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.StopLicenseServer()
	lic, err := license.NewClient(url, "").ClearKey(context.Background(), []drm.KID{ks.Keys[0].KID}, false)
	if err != nil || lic.Keys[0].Key != ks.Keys[0].Key {
		t.Fatalf("license for the surviving key set: %v", err)
	}
}

// TestUnreadableKeySetIs503: a key set whose secret cannot be read is a server error, never a
// 404 "unknown KID" that hides the damage.
func TestUnreadableKeySetIs503(t *testing.T) {
	s := open(t)
	ks, err := s.GenerateKeySet("show", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WS.Put(store.BucketSecrets, "keyset/"+ks.ID, []byte("damaged")); err != nil {
		t.Fatal(err)
	}
	url, err := s.StartLicenseServer(context.Background(), LicenseOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.StopLicenseServer()
	_, err = license.NewClient(url, "").ClearKey(context.Background(), []drm.KID{ks.Keys[0].KID}, false)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("damaged key set: %v, want 503", err)
	}
	if l, _ := s.Ledger(); len(l) != 0 {
		t.Fatalf("ledger holds %d entries for refused requests", len(l))
	}
}

// TestPassphraseOnUnprotectedWorkspace: the passphrase is not used, and the service says so.
func TestPassphraseOnUnprotectedWorkspace(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if s.PassphraseUnused {
		t.Fatal("no passphrase given, yet PassphraseUnused")
	}
	s.Close()
	s, err = Open(Options{Dir: dir, Passphrase: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.PassphraseUnused || s.WS.Protected() {
		t.Fatalf("PassphraseUnused %v, protected %v", s.PassphraseUnused, s.WS.Protected())
	}
}

// TestLedgerFailsClosed: when the workspace cannot record a license (full disk, simulated by
// failing the write) the server answers 503, issues no key, and the next request after the
// disk recovers is recorded.
func TestLedgerFailsClosed(t *testing.T) {
	s := open(t)
	ks, err := s.GenerateKeySet("show", nil)
	if err != nil {
		t.Fatal(err)
	}
	url, err := s.StartLicenseServer(context.Background(), LicenseOptions{Addr: "127.0.0.1:0", LedgerKeep: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer s.StopLicenseServer()
	c := license.NewClient(url, "")
	full := errors.New("no space left on device")
	s.WS.SetWriteHook(func(op string) error {
		if strings.Contains(op, store.BucketLedger) {
			return full
		}
		return nil
	})
	for i := 0; i < 20; i++ {
		var se *license.StatusError
		if lic, err := c.ClearKey(context.Background(), []drm.KID{ks.Keys[0].KID}, false); !errors.As(err, &se) ||
			se.Status != 503 || lic != nil && len(lic.Keys) > 0 {
			t.Fatalf("license with a full disk: %v", err)
		}
	}
	s.WS.SetWriteHook(nil)
	// Retention: 150 licenses, the newest 100 kept.
	for i := 0; i < 150; i++ {
		if _, err := c.ClearKey(context.Background(), []drm.KID{ks.Keys[0].KID}, false); err != nil {
			t.Fatal(err)
		}
	}
	if l, _ := s.Ledger(); len(l) != 100 {
		t.Fatalf("ledger holds %d entries, want 100", len(l))
	}
	s.StopLicenseServer()
	if _, err := s.StartLicenseServer(context.Background(), LicenseOptions{Addr: "127.0.0.1:0", LedgerKeep: 5}); err == nil {
		t.Fatal("LedgerKeep 5 accepted")
	}
}
