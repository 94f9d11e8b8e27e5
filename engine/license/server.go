// Package license is Satchel's embedded license server and its reference client. It speaks
// the real W3C ClearKey protocol (browsers use it directly through EME) and a documented
// Satchel TEST protocol per DRM system (docs/license-protocol.md): the request carries that
// system's init data (Widevine PSSH, PlayReady Object, FairPlay skd:// URI) and an ephemeral
// P-256 public key; the response carries the configured offline policy and the content keys
// wrapped for that key, signed with the server's Ed25519 key. Real Widevine, PlayReady and
// FairPlay licenses need the vendors' license services.
package license

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"satchel/engine/drm"
	"satchel/engine/policy"
	"satchel/internal/bug"
)

// MaxRequestBytes bounds license request bodies.
const MaxRequestBytes = 64 << 10

// KeyStore finds content keys by KID.
type KeyStore interface {
	Key(kid drm.KID) (drm.ContentKey, bool)
}

// KeyLookup is a KeyStore that can fail to read its keys (a workspace on a broken disk, a
// damaged record). The server prefers it to Key: a lookup error answers 503 and issues
// nothing, instead of a misleading "unknown KID" 404.
type KeyLookup interface {
	LookupKey(kid drm.KID) (drm.ContentKey, bool, error)
}

// StaticKeys is a KeyStore over a fixed key list.
type StaticKeys []drm.ContentKey

// Key implements KeyStore.
func (s StaticKeys) Key(kid drm.KID) (drm.ContentKey, bool) { return drm.KeyByKID(s, kid) }

// Entry is one record of the ledger: a license the server issued, or (from a simulated
// device, engine/simulate) a refused acquisition or a play decision. Device, ScenarioTime and
// Decision let a trainer replay a simulated session.
type Entry struct {
	Time       time.Time `json:"time"`
	System     string    `json:"system"`
	Type       string    `json:"type"` // clearkey session type, "test-license", or a simulator event ("acquire", "play")
	KIDs       []string  `json:"kids"`
	Persistent bool      `json:"persistent"`
	Policy     string    `json:"policy,omitempty"`
	Client     string    `json:"client,omitempty"`
	Remote     string    `json:"remote,omitempty"`
	ExpiresAt  string    `json:"expires_at,omitempty"`
	// Device names the (simulated) device that asked, from the X-Satchel-Device header.
	Device string `json:"device,omitempty"`
	// ScenarioTime is the simulated scenario's time of the event, as the simulator labels it
	// ("day 2, 20:00"), from the X-Satchel-Scenario-Time header.
	ScenarioTime string `json:"scenario_time,omitempty"`
	// Decision is what happened; empty in entries written before it existed (issued).
	Decision Decision `json:"decision,omitempty"`
	// Clock names the license clock that refused a play (simulator entries).
	Clock string `json:"clock,omitempty"`
	// Reason explains a refusal in the DRM system's terms.
	Reason string `json:"reason,omitempty"`
}

// Decision is the outcome an Entry records.
type Decision string

// The decisions a ledger entry records.
const (
	// DecisionIssued: the server issued a license.
	DecisionIssued Decision = "issued"
	// DecisionRefused: a license request or a (simulated) play attempt was refused.
	DecisionRefused Decision = "refused"
	// DecisionPlays: a simulated device played with its stored license.
	DecisionPlays Decision = "plays"
)

// Request headers a (simulated) device may send so the ledger can tie a license to it.
const (
	HeaderDevice       = "X-Satchel-Device"
	HeaderScenarioTime = "X-Satchel-Scenario-Time"
)

// maxHeaderText bounds the device and scenario-time values kept in the ledger.
const maxHeaderText = 80

// MaxClientText bounds the client description (User-Agent, a test request's "client") kept in
// the ledger: a client must not grow the ledger by sending a megabyte-long User-Agent.
const MaxClientText = 200

// setRequester copies the device and scenario-time headers of r into e, trimmed to printable
// text of at most maxHeaderText runes.
func (e *Entry) setRequester(r *http.Request) {
	e.Device = headerText(r.Header.Get(HeaderDevice))
	e.ScenarioTime = headerText(r.Header.Get(HeaderScenarioTime))
}

func headerText(v string) string { return boundedText(v, maxHeaderText) }

// boundedText returns v trimmed to printable text of at most max runes. Only a bounded prefix
// of v is looked at.
func boundedText(v string, max int) string {
	if len(v) > 4*max+4 {
		v = v[:4*max+4]
	}
	var b strings.Builder
	n := 0
	for _, c := range strings.TrimSpace(v) {
		if n == max {
			break
		}
		if c < 0x20 || c == 0x7f || c == utf8.RuneError {
			continue
		}
		b.WriteRune(c)
		n++
	}
	return b.String()
}

// Ledger records issued licenses.
type Ledger interface {
	Record(Entry) error
}

// MemoryLedger keeps entries in memory (tests, `satchel verify`'s private server).
type MemoryLedger struct {
	mu      sync.Mutex
	entries []Entry
}

// Record implements Ledger.
func (m *MemoryLedger) Record(e Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, e)
	return nil
}

// Entries returns a copy of the entries.
func (m *MemoryLedger) Entries() []Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Entry(nil), m.entries...)
}

// Server issues licenses. Zero values work: no keys, open policy, no ledger, a fresh signing
// key.
type Server struct {
	Keys   KeyStore
	Policy func() *policy.Policy // nil or returning nil: open, non-persistent ClearKey as requested
	Ledger Ledger
	Signer ed25519.PrivateKey
	Logger *slog.Logger
	Now    func() time.Time

	once sync.Once
}

func (s *Server) init() {
	s.once.Do(func() {
		if s.Signer == nil {
			_, s.Signer, _ = ed25519.GenerateKey(rand.Reader)
		}
		if s.Logger == nil {
			s.Logger = slog.Default()
		}
		if s.Now == nil {
			s.Now = time.Now
		}
		if s.Keys == nil {
			s.Keys = StaticKeys(nil)
		}
	})
}

// PublicKey returns the server's Ed25519 verification key.
func (s *Server) PublicKey() ed25519.PublicKey {
	s.init()
	return s.Signer.Public().(ed25519.PublicKey)
}

// httpError is a client-facing failure with its status.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, a ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, a...)}
}

// Handler returns the HTTP handler: POST /clearkey, POST /license/{widevine,playready,
// fairplay}, GET /license/publickey, GET /health. Every response carries CORS headers so a
// player page on another origin can call it.
func (s *Server) Handler() http.Handler {
	s.init()
	mux := http.NewServeMux()
	mux.HandleFunc("/clearkey", s.post(s.clearKey))
	for _, sys := range []drm.System{drm.Widevine, drm.PlayReady, drm.FairPlay} {
		mux.HandleFunc("/license/"+string(sys), s.post(func(r *http.Request, body []byte) (any, error) { return s.testLicense(r, sys, body) }))
	}
	mux.HandleFunc("/license/publickey", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"algorithm": "Ed25519", "public_key": base64.StdEncoding.EncodeToString(s.PublicKey())})
	})
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return s.middleware(mux)
}

func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		origin := r.Header.Get("Origin")
		if origin == "" {
			origin = "*"
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Vary", "Origin")
		h.Set("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, "+HeaderDevice+", "+HeaderScenarioTime)
		h.Set("Access-Control-Max-Age", "600")
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		defer func() {
			if p := recover(); p != nil {
				b := bug.Capture(p)
				s.Logger.Error("license handler panic: a bug", "path", r.URL.Path, "panic", fmt.Sprint(p),
					"stack", string(b.Stack))
				writeJSON(w, http.StatusInternalServerError, map[string]string{"error": b.Error()})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// post wraps a JSON POST endpoint: method check, body limit, error mapping.
func (s *Server) post(fn func(r *http.Request, body []byte) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST, OPTIONS")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST with a JSON body"})
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBytes+1))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "could not read the request body"})
			return
		}
		if len(body) > MaxRequestBytes {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": fmt.Sprintf("request body over %d KiB", MaxRequestBytes>>10)})
			return
		}
		resp, err := fn(r, body)
		if err != nil {
			var he *httpError
			status := http.StatusBadRequest
			if errors.As(err, &he) {
				status = he.status
			}
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="satchel"`)
			}
			s.Logger.Info("license request refused", "path", r.URL.Path, "status", status, "reason", err.Error())
			writeJSON(w, status, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, resp)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// currentPolicy returns the configured policy or nil.
func (s *Server) currentPolicy() *policy.Policy {
	if s.Policy == nil {
		return nil
	}
	return s.Policy()
}

// authorize checks the bearer token for every KID against the policy's restriction.
func (s *Server) authorize(r *http.Request, p *policy.Policy, kids []drm.KID) error {
	if p == nil || p.Token.Type != policy.RestrictionJWT {
		return nil
	}
	token := bearerToken(r.Header.Get("Authorization"))
	for _, k := range kids {
		if err := policy.ValidateToken(p.Token, strings.TrimSpace(token), k.String(), s.Now()); err != nil {
			if errors.Is(err, policy.ErrTokenMissing) {
				return errorf(http.StatusUnauthorized, "%v", err)
			}
			return errorf(http.StatusForbidden, "%v", err)
		}
	}
	return nil
}

// bearerToken returns the token of an "Authorization: Bearer <token>" header; the scheme is
// case-insensitive (RFC 7235), so "bearer" and "BEARER" work too. Anything else gives "".
func bearerToken(auth string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(auth), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return token
}

func (s *Server) lookup(kids []drm.KID) ([]drm.ContentKey, error) {
	if len(kids) == 0 {
		return nil, errorf(http.StatusBadRequest, "the request names no key IDs")
	}
	if len(kids) > 64 {
		return nil, errorf(http.StatusBadRequest, "the request names %d key IDs; at most 64", len(kids))
	}
	var keys []drm.ContentKey
	for _, k := range kids {
		ck, ok, err := s.key(k)
		if err != nil {
			s.Logger.Error("key store unreadable", "kid", k.String(), "err", err)
			return nil, errorf(http.StatusServiceUnavailable, "the server cannot read its keys (%v); no license was issued", err)
		}
		if !ok {
			return nil, errorf(http.StatusNotFound, "unknown KID %s: this server has no key for it", k)
		}
		keys = append(keys, ck)
	}
	return keys, nil
}

// key finds kid through KeyLookup when the store has it, else through Key.
func (s *Server) key(kid drm.KID) (drm.ContentKey, bool, error) {
	if kl, ok := s.Keys.(KeyLookup); ok {
		return kl.LookupKey(kid)
	}
	ck, ok := s.Keys.Key(kid)
	return ck, ok, nil
}

// record writes e to the ledger before the license leaves the server: when the write fails
// the request fails (503) and no license is issued, so the ledger never misses a license.
func (s *Server) record(e Entry) error {
	if s.Ledger == nil {
		return nil
	}
	e.Client = boundedText(e.Client, MaxClientText)
	if err := s.Ledger.Record(e); err != nil {
		s.Logger.Error("ledger write failed; license refused", "err", err)
		return errorf(http.StatusServiceUnavailable,
			"the license could not be recorded in the ledger (%v); no license was issued, try again later", err)
	}
	return nil
}

// Listen opens addr (default 127.0.0.1:8787). A non-loopback address is allowed but logged:
// browsers only allow EME in a secure context, i.e. HTTPS or localhost.
func Listen(addr string, log *slog.Logger) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:8787"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("license server address %q: %w (use host:port, e.g. 127.0.0.1:8787)", addr, err)
	}
	if ip := net.ParseIP(host); (ip == nil && host != "localhost") || (ip != nil && !ip.IsLoopback()) {
		if log == nil {
			log = slog.Default()
		}
		log.Warn("license server listening beyond loopback; browsers need HTTPS for EME off localhost", "addr", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("license server cannot listen on %s: %w; choose another port", addr, err)
	}
	return ln, nil
}

// Limits bound what clients can hold of the server: connections, time to send a request, idle
// keep-alive time and header size. The server holds at most MaxConns connections (it never
// runs out of file descriptors); a connection arriving at the cap closes the oldest one that
// is not in a request (silent or idle), so a thousand idle connections never keep a real
// request waiting. When all are in a request, a new one waits up to ReadHeaderTimeout.
type Limits struct {
	MaxConns          int           // connections served at once
	ReadHeaderTimeout time.Duration // to send the request line and headers
	ReadTimeout       time.Duration // to send the whole request (headers and body)
	IdleTimeout       time.Duration // a keep-alive connection waiting for its next request
	MaxHeaderBytes    int
}

// DefaultLimits are the limits of Serve. WriteTimeout stays unset: /content/ may stream a
// large file to a slow player.
var DefaultLimits = Limits{
	MaxConns:          256,
	ReadHeaderTimeout: 5 * time.Second,
	ReadTimeout:       30 * time.Second,
	IdleTimeout:       60 * time.Second,
	MaxHeaderBytes:    64 << 10,
}

// Serve serves h on ln until ctx ends, over TLS when certFile and keyFile are given, with
// DefaultLimits.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, certFile, keyFile string) error {
	return ServeLimited(ctx, ln, h, certFile, keyFile, DefaultLimits)
}

// ServeLimited is Serve with lim (zero fields take DefaultLimits).
func ServeLimited(ctx context.Context, ln net.Listener, h http.Handler, certFile, keyFile string, lim Limits) error {
	lim = lim.withDefaults()
	capped := newCapListener(ln, lim.MaxConns, lim.ReadHeaderTimeout)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: lim.ReadHeaderTimeout, ReadTimeout: lim.ReadTimeout,
		IdleTimeout: lim.IdleTimeout, MaxHeaderBytes: lim.MaxHeaderBytes, ConnState: capped.connState}
	ln = capped
	errc := make(chan error, 1)
	go func() {
		if certFile != "" && keyFile != "" {
			errc <- srv.ServeTLS(ln, certFile, keyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxConns > 0 {
		d.MaxConns = l.MaxConns
	}
	if l.ReadHeaderTimeout > 0 {
		d.ReadHeaderTimeout = l.ReadHeaderTimeout
	}
	if l.ReadTimeout > 0 {
		d.ReadTimeout = l.ReadTimeout
	}
	if l.IdleTimeout > 0 {
		d.IdleTimeout = l.IdleTimeout
	}
	if l.MaxHeaderBytes > 0 {
		d.MaxHeaderBytes = l.MaxHeaderBytes
	}
	return d
}
