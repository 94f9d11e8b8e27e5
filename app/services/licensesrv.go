package services

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"satchel/app/store"
	"satchel/assets"
	"satchel/engine/drm"
	"satchel/engine/license"
	"satchel/engine/manifest"
	"satchel/engine/policy"
	"satchel/internal/bug"
	"satchel/internal/field"
)

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// LicenseOptions configure the embedded license server.
type LicenseOptions struct {
	Addr       string // default from settings, else 127.0.0.1:8787
	ContentDir string // a package folder served at /content/ for the demo player (optional)
	Policy     string // policy name; empty serves keys without restrictions (temporary or persistent as asked)
	TLSCert    string
	TLSKey     string
	// LedgerKeep is how many ledger entries are kept (the oldest go as new ones arrive); 0
	// takes the workspace setting (store.Settings.LedgerKeep).
	LedgerKeep int
}

// Validate checks the options; problems are *field.Error values.
func (o LicenseOptions) Validate() error {
	if o.LedgerKeep != 0 && (o.LedgerKeep < store.MinLedgerKeep || o.LedgerKeep > store.MaxLedgerKeep) {
		return field.Errorf("ledger_keep", o.LedgerKeep, "must be %d to %d entries", store.MinLedgerKeep, store.MaxLedgerKeep)
	}
	return nil
}

type licenseRuntime struct {
	cancel context.CancelFunc
	url    string
	done   chan struct{}
}

// ledgerHub fans ledger entries out to subscribers (the GUI's live ledger).
type ledgerHub struct {
	mu   sync.Mutex
	subs map[chan license.Entry]struct{}
}

func (h *ledgerHub) publish(e license.Entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs {
		select {
		case c <- e:
		default:
		}
	}
}

// SubscribeLedger returns a channel of new ledger entries and a cancel function.
func (s *Service) SubscribeLedger() (<-chan license.Entry, func()) {
	c := make(chan license.Entry, 32)
	s.ledger.mu.Lock()
	if s.ledger.subs == nil {
		s.ledger.subs = map[chan license.Entry]struct{}{}
	}
	s.ledger.subs[c] = struct{}{}
	s.ledger.mu.Unlock()
	return c, func() {
		s.ledger.mu.Lock()
		delete(s.ledger.subs, c)
		s.ledger.mu.Unlock()
	}
}

// workspaceLedger records entries in the workspace (keeping the newest keep) and notifies
// subscribers. The entry is committed before Record returns, so the server issues no license
// whose entry is not on disk.
type workspaceLedger struct {
	s    *Service
	keep int
}

func (l workspaceLedger) Record(e license.Entry) error {
	if _, err := l.s.WS.AppendKeep(store.BucketLedger, e, l.keep); err != nil {
		return err
	}
	l.s.ledger.publish(e)
	return nil
}

// Ledger returns every issued license, oldest first.
func (s *Service) Ledger() ([]license.Entry, error) {
	recs, err := s.WS.List(store.BucketLedger)
	if err != nil {
		return nil, err
	}
	out := make([]license.Entry, 0, len(recs))
	for _, r := range recs {
		var e license.Entry
		if json.Unmarshal(r.Data, &e) == nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// workspaceKeys finds keys in every key set, then in the served package's keys.cpix.xml.
type workspaceKeys struct {
	s     *Service
	extra []drm.ContentKey
}

// Key implements license.KeyStore; the server calls LookupKey, which reports read errors.
func (k workspaceKeys) Key(kid drm.KID) (drm.ContentKey, bool) {
	ck, ok, _ := k.LookupKey(kid)
	return ck, ok
}

// LookupKey implements license.KeyLookup: the served package's keys first, then the one key
// set whose metadata lists kid (only its secret is decrypted). A set that cannot be read is an
// error, never "unknown KID".
func (k workspaceKeys) LookupKey(kid drm.KID) (drm.ContentKey, bool, error) {
	if ck, ok := drm.KeyByKID(k.extra, kid); ok {
		return ck, true, nil
	}
	return k.s.keyByKID(kid)
}

// StartLicenseServer starts the license server (and demo player) and returns its base URL.
// It runs until StopLicenseServer, Close, or the end of ctx.
func (s *Service) StartLicenseServer(ctx context.Context, opts LicenseOptions) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.license != nil {
		return s.license.url, nil
	}
	if err := opts.Validate(); err != nil {
		return "", err
	}
	st, err := s.Settings()
	if err != nil {
		return "", err
	}
	if opts.Addr == "" {
		opts.Addr = st.LicenseAddr
	}
	if opts.LedgerKeep == 0 {
		opts.LedgerKeep = st.LedgerKeepOrDefault()
	}
	var pol *policy.Policy
	if opts.Policy != "" {
		p, err := s.PolicyByName(opts.Policy)
		if err != nil {
			return "", err
		}
		pol = p
	}
	ks := workspaceKeys{s: s}
	if opts.ContentDir != "" {
		if st, err := os.Stat(opts.ContentDir); err != nil || !st.IsDir() {
			return "", field.Errorf("content_dir", opts.ContentDir, "not a folder")
		}
		if p := filepath.Join(opts.ContentDir, manifest.FileKeys); fileExists(p) {
			doc, err := drm.ReadCPIXFile(p)
			if err != nil {
				return "", err
			}
			ks.extra = doc.Keys
		}
	}
	srv := &license.Server{Keys: ks, Ledger: workspaceLedger{s: s, keep: opts.LedgerKeep}, Logger: s.Log,
		Policy: func() *policy.Policy { return pol }}
	ln, err := license.Listen(opts.Addr, s.Log)
	if err != nil {
		return "", err
	}
	scheme := "http"
	if opts.TLSCert != "" {
		scheme = "https"
	}
	url := scheme + "://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(ctx)
	rt := &licenseRuntime{cancel: cancel, url: url, done: make(chan struct{})}
	handler := s.licenseMux(srv, opts.ContentDir)
	go func() {
		defer close(rt.done)
		if err := license.Serve(ctx, ln, handler, opts.TLSCert, opts.TLSKey); err != nil {
			s.Log.Error("license server stopped", "err", err)
		}
	}()
	s.license = rt
	s.Log.Info("license server started", "url", url)
	return url, nil
}

// licenseMux adds the demo player (/player/) and the package (/content/, /api/downloads).
func (s *Service) licenseMux(srv *license.Server, contentDir string) http.Handler {
	mux := http.NewServeMux()
	lic := srv.Handler()
	mux.Handle("/clearkey", lic)
	mux.Handle("/license/", lic)
	mux.Handle("/health", lic)
	mux.Handle("/player/", http.StripPrefix("/player/", http.FileServerFS(assets.Player())))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			http.Redirect(w, r, "/player/", http.StatusFound)
			return
		}
		http.NotFound(w, r)
	})
	if contentDir != "" {
		root, err := newContentRoot(contentDir)
		if err != nil {
			s.Log.Error("content folder", "dir", contentDir, "err", err)
			return mux
		}
		mux.Handle("/content/", http.StripPrefix("/content/", root))
		mux.HandleFunc("/api/downloads", func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if p := recover(); p != nil {
					b := bug.Capture(p)
					s.Log.Error("downloads list panic: a bug", "panic", fmt.Sprint(p), "stack", string(b.Stack))
					http.Error(w, b.Error(), http.StatusInternalServerError)
				}
			}()
			list, err := root.downloads(r.Context())
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(list)
		})
	}
	return mux
}

// StopLicenseServer stops the license server if it runs.
func (s *Service) StopLicenseServer() {
	s.mu.Lock()
	rt := s.license
	s.license = nil
	s.mu.Unlock()
	if rt != nil {
		rt.cancel()
		<-rt.done
	}
}

// LicenseURL returns the running server's base URL.
func (s *Service) LicenseURL() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.license == nil {
		return "", false
	}
	return s.license.url, true
}
