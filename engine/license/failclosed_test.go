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

// TestConnectionsAreBounded reproduces issue 16: 1,050 idle connections made /health time out
// with "too many open files". The server now holds at most MaxConns connections, drops those
// that send nothing within ReadHeaderTimeout, and answers /health while being flooded.
func TestConnectionsAreBounded(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &countingListener{Listener: raw}
	lim := Limits{MaxConns: 8, ReadHeaderTimeout: 200 * time.Millisecond, IdleTimeout: 200 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeLimited(ctx, ln, (&Server{}).Handler(), "", "", lim) }()
	defer func() { cancel(); <-done }()
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for i := 0; i < 60; i++ {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	start := time.Now()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + raw.Addr().String() + "/health")
	if err != nil {
		t.Fatalf("/health while flooded: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/health: %d", resp.StatusCode)
	}
	t.Logf("/health answered after %s behind 60 idle connections", time.Since(start))
	if peak := ln.peak.Load(); peak > int64(lim.MaxConns) {
		t.Fatalf("%d connections held at once, want at most %d", peak, lim.MaxConns)
	}
	// A client that sends its headers too slowly is cut off.
	slow, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	slow.Write([]byte("GET /health HTTP/1.1\r\nHost: x\r\n"))
	slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := slow.Read(make([]byte, 1)); err == nil {
		// The server may answer 408 before closing; then the next read sees the close.
		io.Copy(io.Discard, slow)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
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
