// Package services is Satchel's application layer and the only place an operation is
// assembled: which files are read (keys.cpix.xml and policy.json beside a target), key and
// policy lookup, defaults, concurrency, the memory limit, warnings and what is recorded in the
// workspace. The GUI (ui) and the CLI (app/cli) are adapters over it: they parse their input
// into the same request structs (PackageRequest, VerifyRequest, PublishRequest), make one call
// here and render the result, so both behave the same for the same input.
//
// Stateless reads (Probe, Inspect, ReadPolicyFile) need no workspace. Everything that records
// something runs on an open *Service. Nothing here imports Fyne or names a CLI flag or a
// screen: errors are typed (*field.Error, *NotFoundError, …) and the edges phrase the fix.
package services

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"

	"satchel/app/jobs"
	"satchel/app/store"
)

// Options configure Open.
type Options struct {
	// Dir is the workspace folder; empty means store.DefaultDir.
	Dir string
	// Passphrase unlocks a workspace whose data key is passphrase-protected.
	Passphrase string
	// Logger receives diagnostics; nil means slog.Default().
	Logger *slog.Logger
}

// Service is an open workspace with its job manager and (optional) running license server.
// Close it when done: the workspace is locked while it is open.
type Service struct {
	WS   *store.Workspace
	Jobs *jobs.Manager
	Log  *slog.Logger
	Dir  string

	// PassphraseUnused is set when Options.Passphrase was given for a workspace that is not
	// protected by one: it was ignored (a new workspace is protected with it instead). Edges
	// warn; it is not an error, because one environment may serve several workspaces.
	PassphraseUnused bool

	mu      sync.Mutex
	license *licenseRuntime
	ledger  *ledgerHub
}

// Job kinds run by the services.
const (
	KindPackage jobs.Kind = "package"
	KindPublish jobs.Kind = "publish"
	KindVerify  jobs.Kind = "verify"
)

// QueuedKinds are the job kinds that run one at a time, in the order they were started (the
// job queue): a job started while another runs waits, queued.
var QueuedKinds = []jobs.Kind{KindPackage, KindPublish, KindVerify, KindEncode}

// Open opens (creating if needed) the workspace and returns the service. A workspace held by
// another Satchel process (the desktop app, another command) fails fast with
// *store.InUseError.
func Open(opts Options) (*Service, error) {
	dir := opts.Dir
	if dir == "" {
		d, err := store.DefaultDir()
		if err != nil {
			return nil, err
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
	s.PassphraseUnused = opts.Passphrase != "" && !ws.Protected()
	s.Jobs = jobs.NewManager(jobRecorder{ws}, log)
	s.Jobs.Serialize(QueuedKinds...) // heavy jobs queue: one at a time, in order
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

// NotFoundError says a named record (key set, policy, publish target) is not in the workspace.
type NotFoundError struct {
	What string // "key set", "policy", "publish target"
	Name string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("no %s named %q", e.What, e.Name) }

// jobRecorder persists job records in the jobs bucket.
type jobRecorder struct{ ws *store.Workspace }

func (r jobRecorder) SaveJob(rec jobs.Record) error { return r.ws.Put(store.BucketJobs, rec.ID, rec) }

// list decodes a bucket, logging (not hiding) records that no longer decode.
func list[T any](s *Service, bucket string) ([]store.Entry[T], error) {
	return store.List[T](s.WS, bucket, func(id string, err error) {
		s.Log.Warn("skip unreadable record", "bucket", bucket, "id", id, "err", err)
	})
}

// JobHistory returns persisted jobs of kind ("" for all), newest first.
func (s *Service) JobHistory(kind jobs.Kind) ([]jobs.Record, error) {
	entries, err := list[jobs.Record](s, store.BucketJobs)
	if err != nil {
		return nil, fmt.Errorf("read job history: %w", err)
	}
	var out []jobs.Record
	for _, e := range entries {
		if kind == "" || e.Value.Kind == kind {
			out = append(out, e.Value)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// LastPackage returns the output folder of the newest successful package job (of this or an
// earlier session), so screens and commands can offer it as the next step's input.
func (s *Service) LastPackage() (string, bool) {
	recs, err := s.JobHistory(KindPackage)
	if err != nil {
		s.Log.Warn("read package history", "err", err)
		return "", false
	}
	for _, r := range recs {
		if r.State != jobs.Done {
			continue
		}
		var res struct {
			OutDir string `json:"out_dir"`
		}
		if err := json.Unmarshal(r.Result, &res); err == nil && res.OutDir != "" {
			return res.OutDir, true
		}
	}
	return "", false
}

// idFor derives a stable record ID from a name.
func idFor(name string) string {
	h := sha256.Sum256([]byte(name))
	return hex.EncodeToString(h[:8])
}

// isNotFound reports whether err is the store's not-found error.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
