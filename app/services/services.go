// Package services is the application layer shared by the GUI and the CLI: it opens the
// workspace and offers the user-level operations (assets, key sets, policies, package,
// publish, verify, license server, settings) on top of the engine, packaging and store
// packages. It has no Fyne imports: the ui package calls it and renders results.
package services

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"

	"satchel/app/jobs"
	"satchel/app/store"
)

// Options configure Open.
type Options struct {
	// Dir is the workspace folder; empty means the default in the user config dir.
	Dir string
	// Passphrase unlocks a workspace whose data key is passphrase-protected.
	Passphrase string
	// Logger receives diagnostics; nil means slog.Default().
	Logger *slog.Logger
}

// Service is an open workspace with its job manager and (optional) running license server.
type Service struct {
	WS   *store.Workspace
	Jobs *jobs.Manager
	Log  *slog.Logger
	Dir  string

	mu      sync.Mutex
	license *licenseRuntime
	ledger  *ledgerHub
}

// Open opens (creating if needed) the workspace and returns the service. A workspace held by
// another Satchel process fails fast with *store.InUseError.
func Open(opts Options) (*Service, error) {
	dir := opts.Dir
	if dir == "" {
		d, err := store.DefaultDir()
		if err != nil {
			return nil, fmt.Errorf("find the default workspace folder: %w; pass --workspace DIR", err)
		}
		dir = d
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", dir, err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	ws, err := store.Open(abs, store.Options{Passphrase: opts.Passphrase})
	if err != nil {
		return nil, err
	}
	s := &Service{WS: ws, Log: log, Dir: abs, ledger: &ledgerHub{}}
	s.Jobs = jobs.NewManager(jobRecorder{ws}, log)
	return s, nil
}

// Close stops the license server and running jobs and closes the workspace.
func (s *Service) Close() error {
	s.StopLicenseServer()
	for _, j := range s.Jobs.Jobs() {
		j.Cancel()
		<-j.Done()
	}
	return s.WS.Close()
}

// jobRecorder persists job records in the jobs bucket.
type jobRecorder struct{ ws *store.Workspace }

func (r jobRecorder) SaveJob(rec jobs.Record) error { return r.ws.Put(store.BucketJobs, rec.ID, rec) }

// JobHistory returns persisted jobs of kind ("" for all), newest first.
func (s *Service) JobHistory(kind string) ([]jobs.Record, error) {
	recs, err := s.WS.List(store.BucketJobs)
	if err != nil {
		return nil, fmt.Errorf("read job history: %w", err)
	}
	var out []jobs.Record
	for _, rec := range recs {
		var r jobs.Record
		if err := json.Unmarshal(rec.Data, &r); err != nil {
			s.Log.Warn("skip unreadable job record", "id", rec.ID, "err", err)
			continue
		}
		if kind == "" || r.Kind == kind {
			out = append(out, r)
		}
	}
	sortRecords(out)
	return out, nil
}

// idFor derives a stable record ID from a name.
func idFor(name string) string {
	h := sha256.Sum256([]byte(name))
	return hex.EncodeToString(h[:8])
}

// isNotFound reports whether err is the store's not-found error.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
