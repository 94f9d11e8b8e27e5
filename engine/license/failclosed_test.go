package license

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"satchel/engine/drm"
	"satchel/engine/policy"
)

// failingLedger fails every write, as a full disk does.
type failingLedger struct{ tries atomic.Int64 }

func (l *failingLedger) Record(Entry) error {
	l.tries.Add(1)
	return errors.New("no space left on device")
}

// TestNoLicenseWithoutLedgerEntry reproduces issue 16: with the disk full the server issued
// 200 licenses and recorded 3. Now a failed ledger write fails the request (503) and the
// response carries no key.
func TestNoLicenseWithoutLedgerEntry(t *testing.T) {
	key, _ := drm.RandomContentKey("SD")
	ledger := &failingLedger{}
	srv := &Server{Keys: StaticKeys{key}, Ledger: ledger}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	c := NewClient(ts.URL, "")
	var se *StatusError
	_, err := c.ClearKey(context.Background(), []drm.KID{key.KID}, false)
	if !errors.As(err, &se) || se.Status != http.StatusServiceUnavailable || !strings.Contains(se.Reason, "ledger") {
		t.Fatalf("clearkey with a failing ledger: %v", err)
	}
	_, err = c.TestLicense(context.Background(), drm.Widevine, initData(t, drm.Widevine, []drm.ContentKey{key}, "cenc"))
	if !errors.As(err, &se) || se.Status != http.StatusServiceUnavailable {
		t.Fatalf("test license with a failing ledger: %v", err)
	}
	// The raw body holds no key either.
	resp, err := http.Post(ts.URL+"/clearkey", "application/json",
		strings.NewReader(`{"kids":["`+key.KID.Base64URL()+`"]}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if bytes.Contains(body, []byte(base64.RawURLEncoding.EncodeToString(key.Key[:]))) || bytes.Contains(body, []byte(`"k"`)) {
		t.Fatalf("a refused response carries the key: %s", body)
	}
	if ledger.tries.Load() != 3 {
		t.Fatalf("%d ledger writes tried, want 3", ledger.tries.Load())
	}
}

// TestStoredFieldsAreBounded: a megabyte User-Agent (or test-request client) is stored cut.
func TestStoredFieldsAreBounded(t *testing.T) {
	f := newFixture(t, nil)
	req, _ := http.NewRequest("POST", f.ts.URL+"/clearkey", strings.NewReader(`{"kids":["`+f.keys[0].KID.Base64URL()+`"]}`))
	req.Header.Set("User-Agent", strings.Repeat("A", 500<<10))
	req.Header.Set(HeaderDevice, strings.Repeat("é", 10000))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	eph, _ := ecdh.P256().GenerateKey(rand.Reader)
	body := fmt.Sprintf(`{"init_data":%q,"client_public_key":%q,"client":%q}`,
		base64.StdEncoding.EncodeToString(initData(t, drm.Widevine, f.keys, "cenc")),
		base64.StdEncoding.EncodeToString(eph.PublicKey().Bytes()), strings.Repeat("B", 60000))
	resp, err = http.Post(f.ts.URL+"/license/widevine", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	entries := f.ledger.Entries()
	if len(entries) != 2 {
		t.Fatalf("%d entries (test license %d)", len(entries), resp.StatusCode)
	}
	for _, e := range entries {
		if n := utf8.RuneCountInString(e.Client); n != MaxClientText {
			t.Fatalf("client stored with %d runes", n)
		}
	}
	if n := utf8.RuneCountInString(entries[0].Device); n != maxHeaderText {
		t.Fatalf("device stored with %d runes", n)
	}
}

// TestBearerSchemeIsCaseInsensitive: "bearer", "BEARER" and "Bearer" carry the token (RFC
// 7235); other schemes do not.
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	p := policy.Preset(policy.PresetRental48h)
	key := make([]byte, 32)
	rand.Read(key)
	p.Token = policy.TokenRestriction{Type: policy.RestrictionJWT, Issuer: "iss", Audience: "aud", KeyType: "symmetric",
		KeyValue: base64.StdEncoding.EncodeToString(key), RequiredClaims: []policy.Claim{{Type: policy.ContentKeyIdentifierClaim}}}
	f := newFixture(t, p)
	token, err := policy.IssueTestToken(p.Token, f.keys[0].KID.String(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		header string
		want   int
	}{
		{"Bearer " + token, 200},
		{"bearer " + token, 200},
		{"BEARER " + token, 200},
		{"  Bearer " + token + "  ", 200},
		{"Basic " + token, 401},
		{"Bearer", 401},
		{token, 401},
	} {
		t.Run(c.header[:min(len(c.header), 12)], func(t *testing.T) {
			req, _ := http.NewRequest("POST", f.ts.URL+"/clearkey", strings.NewReader(`{"kids":["`+f.keys[0].KID.Base64URL()+`"]}`))
			req.Header.Set("Authorization", c.header)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.want)
			}
		})
	}
}

// TestStrictJSON: trailing data after a request body is refused, not half read.
func TestStrictJSON(t *testing.T) {
	f := newFixture(t, nil)
	kid := f.keys[0].KID.Base64URL()
	init := base64.StdEncoding.EncodeToString(initData(t, drm.Widevine, f.keys, "cenc"))
	for _, c := range []struct{ name, path, body string }{
		{"clearkey garbage", "/clearkey", `{"kids":["` + kid + `"]}garbage`},
		{"clearkey second value", "/clearkey", `{"kids":["` + kid + `"]} {"kids":[]}`},
		{"test license garbage", "/license/widevine", `{"init_data":"` + init + `","client_public_key":"x"}]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Post(f.ts.URL+c.path, "application/json", strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 || !strings.Contains(string(b), "trailing data") && !strings.Contains(string(b), "invalid") {
				t.Fatalf("%d %s, want 400", resp.StatusCode, b)
			}
		})
	}
	// Trailing white space is fine.
	resp, err := http.Post(f.ts.URL+"/clearkey", "application/json", strings.NewReader(`{"kids":["`+kid+`"]}`+" \n"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("trailing newline: %d", resp.StatusCode)
	}
}

// panicKeys is a key store with a bug.
type panicKeys struct{}

func (panicKeys) Key(drm.KID) (drm.ContentKey, bool) { panic("key store bug") }

// TestHandlerPanicIsABug: a panic answers 500 saying it is a bug, not 400 (a client error).
func TestHandlerPanicIsABug(t *testing.T) {
	ts := httptest.NewServer((&Server{Keys: panicKeys{}}).Handler())
	defer ts.Close()
	kid, _ := drm.RandomKID()
	resp, err := http.Post(ts.URL+"/clearkey", "application/json", strings.NewReader(`{"kids":["`+kid.Base64URL()+`"]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || !strings.Contains(string(b), "this is a bug") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

// countingListener counts the connections accepted and open.
type countingListener struct {
	net.Listener
	open, peak atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	n := l.open.Add(1)
	for p := l.peak.Load(); n > p && !l.peak.CompareAndSwap(p, n); p = l.peak.Load() {
	}
	return &countedConn{Conn: c, l: l}, nil
}

type countedConn struct {
	net.Conn
	l    *countingListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}

// serveCounted serves h on a loopback listener that counts its connections, with lim.
func serveCounted(t *testing.T, h http.Handler, lim Limits) (*countingListener, string) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &countingListener{Listener: raw}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeLimited(ctx, ln, h, "", "", lim) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln, raw.Addr().String()
}

// dialIdle opens n connections that send nothing; they are closed when the test ends.
func dialIdle(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i+1, err)
		}
		conns = append(conns, c)
	}
	return conns
}

// TestConnectionsAreBounded reproduces issue 16: 1,050 idle connections made /health time out
// with "too many open files". With the default limits the server holds at most MaxConns
// connections and answers /health at once behind 1,050 idle ones (a connection at the cap
// closes the oldest silent one; before, /health waited for ReadHeaderTimeout to free slots).
func TestConnectionsAreBounded(t *testing.T) {
	ln, addr := serveCounted(t, (&Server{}).Handler(), Limits{})
	idle := dialIdle(t, addr, 1050)
	start := time.Now()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + addr + "/health")
	if err != nil {
		t.Fatalf("/health while flooded: %v", err)
	}
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != 200 {
		t.Fatalf("/health: %d", resp.StatusCode)
	}
	t.Logf("/health answered after %s behind %d idle connections", took, len(idle))
	if took > 2*time.Second {
		t.Fatalf("/health answered after %s, want at once", took)
	}
	// One more than the cap: the connection being admitted while the oldest idle one closes.
	if peak := ln.peak.Load(); peak > int64(DefaultLimits.MaxConns)+1 {
		t.Fatalf("%d connections held at once, want at most %d", peak, DefaultLimits.MaxConns)
	}
	// The oldest idle connections were closed to make room.
	idle[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := idle[0].Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("the oldest idle connection is still open (%v)", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestFloodSparesRequests: a flood of idle connections never closes a connection in the
// middle of a request, and a client too slow to send its headers is cut off.
func TestFloodSparesRequests(t *testing.T) {
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) { <-release; io.WriteString(w, "done") })
	mux.Handle("/health", (&Server{}).Handler())
	lim := Limits{MaxConns: 4, ReadHeaderTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond}
	_, addr := serveCounted(t, mux, lim)
	slow := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "done" {
				err = fmt.Errorf("body %q", b)
			}
		}
		slow <- err
	}()
	time.Sleep(100 * time.Millisecond) // the slow request is in its handler
	dialIdle(t, addr, 40)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/health while flooded: %v", err)
	}
	resp.Body.Close()
	close(release)
	if err := <-slow; err != nil {
		t.Fatalf("the request in progress was cut: %v", err)
	}
	// A client that sends its headers too slowly is cut off.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET /health HTTP/1.1\r\nHost: x\r\n"))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, c); isTimeout(err) {
		t.Fatal("a connection that never finished its headers was kept open")
	}
}

// TestHeaderBytesAreBounded: headers over MaxHeaderBytes get 431.
func TestHeaderBytesAreBounded(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeLimited(ctx, raw, (&Server{}).Handler(), "", "", Limits{MaxHeaderBytes: 4 << 10}) }()
	defer func() { cancel(); <-done }()
	req, _ := http.NewRequest("GET", "http://"+raw.Addr().String()+"/health", nil)
	req.Header.Set("X-Big", strings.Repeat("x", 64<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431", resp.StatusCode)
	}
}
