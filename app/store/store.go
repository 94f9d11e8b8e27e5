// Package store is the Satchel workspace: one bbolt database with versioned buckets (assets,
// key sets, policies, jobs, publish targets, publications, the license ledger, verify
// reports, settings) and secrets encrypted at rest with AES-256-GCM under a data key kept
// beside the database, optionally wrapped by a passphrase (scrypt). Without a passphrase the
// data key file is mode 0600 on Unix; on Windows (no POSIX modes on NTFS) the key is sealed
// with DPAPI for the current user (CryptProtectData), so only that Windows account can open it.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"satchel/internal/field"
	"satchel/internal/guard"
)

// Bucket names.
const (
	BucketAssets       = "assets"
	BucketKeySets      = "keysets"
	BucketPolicies     = "policies"
	BucketJobs         = "jobs"
	BucketTargets      = "publish_targets"
	BucketPublications = "publications"
	BucketLedger       = "ledger"
	BucketReports      = "reports"
	BucketSettings     = "settings"
	BucketSecrets      = "secrets"
	BucketMeta         = "meta"
	// BucketDeviceLicenses holds the licenses simulated devices keep (records carry their own
	// schema version; an older Satchel ignores the bucket).
	BucketDeviceLicenses = "device_licenses"
)

var allBuckets = []string{BucketAssets, BucketKeySets, BucketPolicies, BucketJobs, BucketTargets, BucketPublications,
	BucketLedger, BucketReports, BucketSettings, BucketSecrets, BucketMeta, BucketDeviceLicenses}

// SchemaVersion is the current layout version.
const SchemaVersion = 2

// File names inside the workspace folder.
const (
	DBFile  = guard.DBFile
	KeyFile = guard.KeyFile
	PIDFile = "satchel.pid"
)

// ErrNotFound is returned by Get for a missing record.
var ErrNotFound = errors.New("not found")

// InUseError says another process holds the workspace.
type InUseError struct {
	Path string
	PID  int
}

func (e *InUseError) Error() string {
	who := "another Satchel process"
	if e.PID > 0 {
		who += fmt.Sprintf(" (PID %d)", e.PID)
	}
	return fmt.Sprintf("workspace %s is in use by %s", e.Path, who)
}

// Options configure Open.
type Options struct {
	Passphrase string
	Timeout    time.Duration // lock wait, default 1 s
	ReadOnly   bool
}

// Record is one stored value.
type Record struct {
	ID   string
	Data []byte
}

// Workspace is an open workspace.
type Workspace struct {
	dir     string
	db      *bolt.DB
	dataKey []byte
	mu      sync.Mutex
	hook    func(op string) error // SetWriteHook (tests)
	// appending counts AppendKeep calls in progress (they batch when concurrent).
	appending atomic.Int64
}

// DefaultDir is $SATCHEL_WORKSPACE or <user config dir>/satchel/workspace.
func DefaultDir() (string, error) {
	if d := os.Getenv("SATCHEL_WORKSPACE"); d != "" {
		return d, nil
	}
	cfg, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the user config folder (set SATCHEL_WORKSPACE to choose one): %w", err)
	}
	return filepath.Join(cfg, "satchel", "workspace"), nil
}

// Open opens or creates the workspace in dir. Another process holding it gives *InUseError
// within the timeout.
func Open(dir string, opts Options) (*Workspace, error) {
	if opts.Timeout == 0 {
		opts.Timeout = time.Second
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create workspace %s: %w", dir, err)
	}
	db, err := bolt.Open(filepath.Join(dir, DBFile), 0o600, &bolt.Options{Timeout: opts.Timeout, ReadOnly: opts.ReadOnly})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			pid, _ := readPID(dir)
			return nil, &InUseError{Path: dir, PID: pid}
		}
		return nil, fmt.Errorf("open workspace %s: %w", dir, err)
	}
	// Batched writes (AppendKeep) wait at most this long for company before committing.
	db.MaxBatchDelay = 2 * time.Millisecond
	w := &Workspace{dir: dir, db: db}
	fail := func(err error) (*Workspace, error) {
		db.Close()
		return nil, err
	}
	if !opts.ReadOnly {
		if err := w.migrate(); err != nil {
			return fail(err)
		}
	}
	if err := w.loadCheckedDataKey(opts.Passphrase, opts.ReadOnly); err != nil {
		return fail(err)
	}
	if !opts.ReadOnly {
		if err := w.migrateSecrets(); err != nil {
			return fail(err)
		}
		if err := upgradeKeyProtection(dir, w.dataKey); err != nil {
			return fail(err)
		}
		_ = os.WriteFile(filepath.Join(dir, PIDFile), []byte(strconv.Itoa(os.Getpid())), 0o600)
	}
	return w, nil
}

func readPID(dir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, PIDFile))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// Close closes the database.
func (w *Workspace) Close() error {
	if pid, err := readPID(w.dir); err == nil && pid == os.Getpid() {
		os.Remove(filepath.Join(w.dir, PIDFile))
	}
	return w.db.Close()
}

// Dir returns the workspace folder.
func (w *Workspace) Dir() string { return w.dir }

// DB exposes the database for tests and integrity checks.
func (w *Workspace) DB() *bolt.DB { return w.db }

// SchemaVersion returns the stored schema version.
func (w *Workspace) SchemaVersion() int {
	v := 0
	_ = w.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte(BucketMeta)); b != nil {
			v, _ = strconv.Atoi(string(b.Get([]byte("schema_version"))))
		}
		return nil
	})
	return v
}

// Put stores v as JSON under bucket/id.
func (w *Workspace) Put(bucket, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store %s/%s: %w", bucket, id, err)
	}
	err = w.db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		return bk.Put([]byte(id), b)
	})
	if err != nil {
		return fmt.Errorf("save %s/%s in workspace %s: %w", bucket, id, w.dir, err)
	}
	return nil
}

// Get decodes bucket/id into v; ErrNotFound when missing.
func (w *Workspace) Get(bucket, id string, v any) error {
	var data []byte
	err := w.db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte(bucket))
		if bk == nil {
			return ErrNotFound
		}
		d := bk.Get([]byte(id))
		if d == nil {
			return ErrNotFound
		}
		data = append([]byte(nil), d...)
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%s %q: %w", strings.TrimSuffix(bucket, "s"), id, ErrNotFound)
		}
		return fmt.Errorf("read %s/%s from workspace %s: %w", bucket, id, w.dir, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s/%s from workspace %s: %w", bucket, id, w.dir, err)
	}
	return nil
}

// Delete removes bucket/id (no error when missing).
func (w *Workspace) Delete(bucket, id string) error {
	return w.db.Update(func(tx *bolt.Tx) error {
		if bk := tx.Bucket([]byte(bucket)); bk != nil {
			return bk.Delete([]byte(id))
		}
		return nil
	})
}

// List returns every record of a bucket in key order.
func (w *Workspace) List(bucket string) ([]Record, error) {
	var out []Record
	err := w.db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte(bucket))
		if bk == nil {
			return nil
		}
		return bk.ForEach(func(k, v []byte) error {
			out = append(out, Record{ID: string(k), Data: append([]byte(nil), v...)})
			return nil
		})
	})
	return out, err
}

// Entry is one decoded record of a bucket.
type Entry[T any] struct {
	ID    string
	Value T
}

// List decodes every record of bucket as a T, in key order. A record that does not decode is
// left out and passed to skip (with its ID and the decoding error) so the caller can log it;
// skip may be nil only where a damaged record cannot matter.
func List[T any](w *Workspace, bucket string, skip func(id string, err error)) ([]Entry[T], error) {
	recs, err := w.List(bucket)
	if err != nil {
		return nil, fmt.Errorf("read %s from workspace %s: %w", bucket, w.dir, err)
	}
	out := make([]Entry[T], 0, len(recs))
	for _, r := range recs {
		var v T
		if err := json.Unmarshal(r.Data, &v); err != nil {
			if skip != nil {
				skip(r.ID, err)
			}
			continue
		}
		out = append(out, Entry[T]{ID: r.ID, Value: v})
	}
	return out, nil
}

// Append stores v under the bucket's next sequence number (zero-padded, so List is in
// insertion order) and returns the ID.
func (w *Workspace) Append(bucket string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("append to %s: %w", bucket, err)
	}
	var id string
	err = w.db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		seq, err := bk.NextSequence()
		if err != nil {
			return err
		}
		id = fmt.Sprintf("%016d", seq)
		return bk.Put([]byte(id), b)
	})
	if err != nil {
		return "", fmt.Errorf("append to %s in workspace %s: %w", bucket, w.dir, err)
	}
	return id, nil
}

// Theme is the GUI's colour scheme.
type Theme string

// The themes.
const (
	ThemeSystem Theme = "system" // follow the desktop's light/dark setting
	ThemeLight  Theme = "light"
	ThemeDark   Theme = "dark"
)

// Themes lists the themes in the order the Settings screen offers them.
var Themes = []Theme{ThemeSystem, ThemeLight, ThemeDark}

// Settings are the user's preferences.
type Settings struct {
	DefaultOutDir string `json:"default_out_dir"`
	// Concurrency is the number of renditions packaged (and files uploaded) in parallel by
	// both the GUI and the CLI; 0 means one per CPU for packaging and 8 uploads.
	Concurrency  int     `json:"concurrency"`
	Theme        Theme   `json:"theme"`
	LastScreen   string  `json:"last_screen"`
	WindowW      float32 `json:"window_w"`
	WindowH      float32 `json:"window_h"`
	LicenseAddr  string  `json:"license_addr"`
	PlayerOrigin string  `json:"player_origin"`
	// LedgerKeep is how many license ledger entries are kept: the oldest go as new ones
	// arrive. 0 means DefaultLedgerKeep.
	LedgerKeep int `json:"ledger_keep,omitempty"`
}

// The bounds of Settings.LedgerKeep. A ledger entry takes about 600 bytes, so the default
// keeps the ledger near 60 MB.
const (
	DefaultLedgerKeep = 100_000
	MinLedgerKeep     = 100
	MaxLedgerKeep     = 10_000_000
)

// LedgerKeepOrDefault returns LedgerKeep, or DefaultLedgerKeep when it is 0.
func (s Settings) LedgerKeepOrDefault() int {
	if s.LedgerKeep == 0 {
		return DefaultLedgerKeep
	}
	return s.LedgerKeep
}

// Settings returns the stored settings (defaults when none).
func (w *Workspace) Settings() (Settings, error) {
	s := Settings{Theme: ThemeSystem, LicenseAddr: "127.0.0.1:8787", WindowW: 1200, WindowH: 780}
	err := w.Get(BucketSettings, "settings", &s)
	if errors.Is(err, ErrNotFound) {
		err = nil
	}
	return s, err
}

// MaxConcurrency is the highest Concurrency setting.
const MaxConcurrency = 64

// Validate checks the settings; problems are *field.Error values (concurrency, theme,
// ledger_keep).
func (s Settings) Validate() error {
	if s.Concurrency < 0 || s.Concurrency > MaxConcurrency {
		return field.Errorf("concurrency", s.Concurrency, "must be 0 (one per CPU) to %d", MaxConcurrency)
	}
	if s.Theme != "" && !slices.Contains(Themes, s.Theme) {
		return field.Errorf("theme", s.Theme, "not one of system, light, dark")
	}
	if s.LedgerKeep != 0 && (s.LedgerKeep < MinLedgerKeep || s.LedgerKeep > MaxLedgerKeep) {
		return field.Errorf("ledger_keep", s.LedgerKeep, "must be 0 (default %d) or %d to %d entries",
			DefaultLedgerKeep, MinLedgerKeep, MaxLedgerKeep)
	}
	return nil
}

// SaveSettings validates and stores the settings.
func (w *Workspace) SaveSettings(s Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return w.Put(BucketSettings, "settings", s)
}
