package license

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"satchel/engine/drm"
	"satchel/engine/policy"
)

type fixture struct {
	srv    *Server
	ts     *httptest.Server
	keys   []drm.ContentKey
	ledger *MemoryLedger
	pol    *policy.Policy
}

func newFixture(t *testing.T, p *policy.Policy) *fixture {
	t.Helper()
	a, _ := drm.RandomContentKey("SD")
	b, _ := drm.RandomContentKey("AUDIO")
	f := &fixture{keys: []drm.ContentKey{a, b}, ledger: &MemoryLedger{}, pol: p}
	f.srv = &Server{Keys: StaticKeys(f.keys), Ledger: f.ledger, Policy: func() *policy.Policy { return f.pol }}
	f.ts = httptest.NewServer(f.srv.Handler())
	t.Cleanup(f.ts.Close)
	return f
}

func initData(t *testing.T, sys drm.System, keys []drm.ContentKey, scheme string) []byte {
	t.Helper()
	if sys == drm.FairPlay {
		return []byte(drm.FairPlaySKD("skd://satchel", keys[0].KID))
	}
	boxes, err := drm.PSSHBoxes(drm.Signalling{Scheme: drm.Scheme(scheme), Keys: keys, Systems: []drm.System{sys}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := drm.BoxBytes(boxes[0])
	return b
}

func TestRoundTripAllSystems(t *testing.T) {
	f := newFixture(t, policy.Preset(policy.PresetRental48h))
	c := NewClient(f.ts.URL, "")
	ctx := context.Background()
	ck, err := c.ClearKey(ctx, []drm.KID{f.keys[0].KID, f.keys[1].KID}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(ck.Keys) != 2 || ck.Keys[0].Key != f.keys[0].Key || ck.Keys[1].Key != f.keys[1].Key {
		t.Fatalf("clearkey keys %+v", ck.Keys)
	}
	for _, sys := range []drm.System{drm.Widevine, drm.PlayReady, drm.FairPlay} {
		scheme := "cenc"
		if sys == drm.FairPlay {
			scheme = "cbcs"
		}
		lic, err := c.TestLicense(ctx, sys, initData(t, sys, f.keys, scheme))
		if err != nil {
			t.Fatalf("%s: %v", sys, err)
		}
		if len(lic.Keys) == 0 || lic.Keys[0].Key != f.keys[0].Key {
			t.Fatalf("%s: keys do not unwrap to the content key", sys)
		}
		if !lic.Persistent || lic.ExpiresAt == nil || lic.ExpiresAt.Sub(time.Now()) < 47*time.Hour {
			t.Fatalf("%s: persistent %v expires %v", sys, lic.Persistent, lic.ExpiresAt)
		}
		if !bytes.Contains(lic.Policy, []byte("Persist")) && !bytes.Contains(lic.Policy, []byte("persist")) && !bytes.Contains(lic.Policy, []byte("DualExpiry")) {
			t.Fatalf("%s: policy not carried: %s", sys, lic.Policy)
		}
	}
	// A PRO (mspr:pro) works as PlayReady init data too.
	boxes, _ := drm.PSSHBoxes(drm.Signalling{Scheme: "cenc", Keys: f.keys[:1], Systems: []drm.System{drm.PlayReady}})
	if _, err := c.TestLicense(ctx, drm.PlayReady, boxes[0].Data); err != nil {
		t.Fatalf("PRO init data: %v", err)
	}
	if n := len(f.ledger.Entries()); n != 5 {
		t.Fatalf("ledger has %d entries, want one per license (5)", n)
	}
	e := f.ledger.Entries()[0]
	if e.System != "clearkey" || !e.Persistent || e.Policy != policy.PresetRental48h || len(e.KIDs) != 2 {
		t.Fatalf("ledger entry %+v", e)
	}
}

func TestSignatureTamperDetected(t *testing.T) {
	f := newFixture(t, nil)
	// A man in the middle re-signs with another key: the pinned key rejects it.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	c := NewClient(f.ts.URL, "")
	c.ServerKey = other.Public().(ed25519.PublicKey)
	_, err := c.TestLicense(context.Background(), drm.Widevine, initData(t, drm.Widevine, f.keys, "cenc"))
	if err == nil || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("wrong server key accepted: %v", err)
	}
}

func TestTokenRestriction(t *testing.T) {
	p := policy.Preset(policy.PresetRental48h)
	key := make([]byte, 32)
	rand.Read(key)
	p.Token = policy.TokenRestriction{Type: policy.RestrictionJWT, Issuer: "iss", Audience: "aud", KeyType: "symmetric", KeyValue: base64.StdEncoding.EncodeToString(key),
		RequiredClaims: []policy.Claim{{Type: policy.ContentKeyIdentifierClaim}}}
	f := newFixture(t, p)
	ctx := context.Background()
	var se *StatusError
	if _, err := NewClient(f.ts.URL, "").ClearKey(ctx, []drm.KID{f.keys[0].KID}, false); !errors.As(err, &se) || se.Status != 401 {
		t.Fatalf("no token: %v", err)
	}
	wrong := p.Token
	wrong.Audience = "other"
	bad, _ := policy.IssueTestToken(wrong, f.keys[0].KID.String(), time.Hour)
	if _, err := NewClient(f.ts.URL, bad).ClearKey(ctx, []drm.KID{f.keys[0].KID}, false); !errors.As(err, &se) || se.Status != 403 || !strings.Contains(se.Reason, "audience") {
		t.Fatalf("wrong audience: %v", err)
	}
	good, _ := policy.IssueTestToken(p.Token, f.keys[0].KID.String(), time.Hour)
	if _, err := NewClient(f.ts.URL, good).ClearKey(ctx, []drm.KID{f.keys[0].KID}, false); err != nil {
		t.Fatalf("good token: %v", err)
	}
	// The token is for key 0 only.
	if _, err := NewClient(f.ts.URL, good).ClearKey(ctx, []drm.KID{f.keys[1].KID}, false); !errors.As(err, &se) || se.Status != 403 {
		t.Fatalf("token for another KID: %v", err)
	}
}

func TestBadRequests(t *testing.T) {
	f := newFixture(t, policy.Preset(policy.PresetStreaming))
	unknown, _ := drm.RandomKID()
	cases := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"bad json", "POST", "/clearkey", "{", 400, "not a ClearKey request"},
		{"bad kid", "POST", "/clearkey", `{"kids":["zz"]}`, 400, "base64url"},
		{"unknown kid", "POST", "/clearkey", `{"kids":["` + unknown.Base64URL() + `"]}`, 404, unknown.String()},
		{"persistent refused", "POST", "/clearkey", `{"kids":["` + f.keys[0].KID.Base64URL() + `"],"type":"persistent-license"}`, 403, "persistent"},
		{"oversize", "POST", "/clearkey", `{"kids":["` + strings.Repeat("A", MaxRequestBytes) + `"]}`, 413, "KiB"},
		{"method", "GET", "/clearkey", "", 405, "POST"},
		{"test bad init", "POST", "/license/widevine", `{"init_data":"AAAA","client_public_key":"AAAA"}`, 400, "init data"},
		{"test bad key", "POST", "/license/fairplay", `{"init_data":"` + base64.StdEncoding.EncodeToString([]byte("skd://x/"+f.keys[0].KID.Hex())) + `","client_public_key":"AAAA"}`, 400, "P-256"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, f.ts.URL+c.path, strings.NewReader(c.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			if resp.StatusCode != c.status || !strings.Contains(b.String(), c.want) {
				t.Fatalf("%d %s, want %d containing %q", resp.StatusCode, b.String(), c.status, c.want)
			}
		})
	}
	if n := len(f.ledger.Entries()); n != 0 {
		t.Fatalf("refused requests reached the ledger: %d", n)
	}
}

func TestCORSPreflight(t *testing.T) {
	f := newFixture(t, nil)
	req, _ := http.NewRequest("OPTIONS", f.ts.URL+"/clearkey", nil)
	req.Header.Set("Origin", "https://player.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://player.example.com" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

func fuzzHandler(f *testing.F, path string, seeds ...string) {
	a, _ := drm.RandomContentKey("SD")
	srv := &Server{Keys: StaticKeys{a}, Policy: func() *policy.Policy { return policy.Preset(policy.PresetRental48h) }}
	h := srv.Handler()
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", path, bytes.NewReader(body)))
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}

func FuzzClearKeyRequest(f *testing.F) {
	fuzzHandler(f, "/clearkey", `{"kids":["AAAAAAAAAAAAAAAAAAAAAA"],"type":"temporary"}`, `{"kids":[]}`)
}

func FuzzTestLicenseRequest(f *testing.F) {
	fuzzHandler(f, "/license/playready", `{"init_data":"AAAA","client_public_key":"BA=="}`)
}
