package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"sort"
	"time"

	"satchel/engine/drm"
	"satchel/engine/license"
	"satchel/engine/policy"
)

func (v *verifier) lintPolicy() {
	if v.in.Policy == nil {
		return
	}
	p := v.in.Policy
	issues := policy.Validate(p, true)
	for _, is := range issues {
		v.rep.add(CatPolicy, Warn, "policy "+p.Name, is.Field+": offline: "+is.Message, is.Fix)
	}
	if !policy.HasErrors(issues) {
		v.rep.pass(CatPolicy, "policy "+p.Name, "valid for offline playback")
	}
}

// licenseRoundTrip requests a license per signalled system (the embedded server, loaded with
// the given keys, unless a license server URL is given) and keeps the licensed keys for
// decryption.
func (v *verifier) licenseRoundTrip(ctx context.Context) {
	if len(v.kids) == 0 {
		return
	}
	base := v.in.LicenseURL
	if base == "" {
		if len(v.in.Keys) == 0 {
			v.rep.warn(CatLicense, "license", "no keys and no license server given: the license round trip and decryption are skipped",
				"give the content keys (a CPIX document or KID:KEY) or a license server URL")
			return
		}
		srv := &license.Server{Keys: license.StaticKeys(v.in.Keys), Policy: func() *policy.Policy { return v.in.Policy },
			Ledger: &license.MemoryLedger{}}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			v.rep.fail(CatLicense, "license", "cannot start the embedded license server: "+err.Error(), "free a loopback port")
			return
		}
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go license.Serve(sctx, ln, srv.Handler(), "", "")
		base = "http://" + ln.Addr().String()
	}
	client := license.NewClient(base, v.in.Token)
	var kids []drm.KID
	for k := range v.kids {
		kids = append(kids, k)
	}
	sort.Slice(kids, func(i, j int) bool { return kids[i].String() < kids[j].String() })
	var licensed []drm.ContentKey
	record := func(sys drm.System, endpoint string, lic *license.License, err error) {
		if keys := v.recordExchange(sys, endpoint, lic, err); keys != nil {
			licensed = append(licensed, keys...)
		}
	}
	if _, ok := v.systems[drm.ClearKey]; ok {
		persistent := v.in.Policy == nil || v.in.Policy.Persistent("clearkey")
		lic, err := client.ClearKey(ctx, kids, persistent)
		record(drm.ClearKey, base+"/clearkey", lic, err)
	}
	for _, sys := range []drm.System{drm.Widevine, drm.PlayReady} {
		if init, ok := v.systems[sys]; ok && len(init) > 0 {
			lic, err := client.TestLicense(ctx, sys, init)
			record(sys, base+"/license/"+string(sys), lic, err)
		}
	}
	seen := map[string]bool{}
	for _, u := range v.fpURIs {
		if !seen[u] {
			seen[u] = true
			lic, err := client.TestLicense(ctx, drm.FairPlay, []byte(u))
			record(drm.FairPlay, base+"/license/fairplay", lic, err)
		}
	}
	if len(v.systems) == 0 && len(v.fpURIs) == 0 {
		v.rep.warn(CatDRM, "signalling", "no DRM system is signalled (no pssh, no EXT-X-KEY)",
			"package with DRM systems so players know where to get licenses")
	}
	// Decrypt with what the licenses delivered; fall back to the given keys.
	if len(licensed) > 0 {
		v.keys = append(licensed, v.in.Keys...)
	}
}

// recordExchange reports one license exchange and returns the keys it delivered.
func (v *verifier) recordExchange(sys drm.System, endpoint string, lic *license.License, err error) []drm.ContentKey {
	ex := Exchange{System: string(sys), Endpoint: endpoint}
	if lic != nil {
		ex.Request, ex.Response = jsonOrString(lic.RawRequest), jsonOrString(lic.RawResponse)
		if !v.in.IncludeKeys {
			ex.Request, ex.Response = RedactKeys(ex.Request), RedactKeys(ex.Response)
		}
	}
	defer func() { v.rep.LicenseExchanges = append(v.rep.LicenseExchanges, ex) }()
	subject := sys.Title() + " license"
	if err != nil {
		ex.Error = err.Error()
		var se *license.StatusError
		fix := "check the license server, the token and the policy"
		if errors.As(err, &se) && se.Status == http.StatusNotFound {
			fix = "give the key for that KID (a CPIX document or KID:KEY)"
		}
		v.rep.fail(CatLicense, subject, "license request failed: "+err.Error(), fix)
		return nil
	}
	exp := "no expiry"
	if lic.ExpiresAt != nil {
		exp = "expires " + lic.ExpiresAt.Format(time.RFC3339)
	}
	v.rep.pass(CatLicense, subject, "issued %d key(s), persistent=%v, %s", len(lic.Keys), lic.Persistent, exp)
	if !lic.Persistent {
		v.rep.warn(CatPolicy, subject, "the license is not persistent: it cannot be stored, so offline playback after download will fail",
			"use a policy that allows persistence (Widevine can_persist, PlayReady Persistent, FairPlay DualExpiry/Persistent*, "+
				"ClearKey persistent-license)")
	}
	return lic.Keys
}

// keyField matches a JSON Web Key's "k" member (the content key, base64url).
var keyField = regexp.MustCompile(`("k"\s*:\s*)"[^"]*"`)

// RedactKeys replaces the content keys ("k" members of JWKs) in a license message with
// "[redacted]". Wrapped keys of Satchel's test protocol stay: they are encrypted for the
// checker's ephemeral key, which is never kept.
func RedactKeys(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	return keyField.ReplaceAll(b, []byte(`$1"[redacted]"`))
}

func jsonOrString(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	if b[0] == '{' || b[0] == '[' {
		return bytes.TrimSpace(b)
	}
	return []byte(fmt.Sprintf("%q", string(b)))
}
