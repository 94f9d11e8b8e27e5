package license

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"satchel/engine/drm"
	"satchel/engine/policy"
)

var issued = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

func i64p(v int64) *int64 { return &v }

// TestClocksForPresets checks every preset's clocks field by field against the policy values.
func TestClocksForPresets(t *testing.T) {
	h48 := int64(48 * 3600)
	exp48 := issued.Add(48 * time.Hour)
	cases := []struct {
		preset, system string
		want           *Clocks
		expires        time.Time
	}{
		{policy.PresetRental48h, "widevine", &Clocks{Widevine: &WidevineClocks{CanPlay: true, CanPersist: true,
			LicenseDurationSeconds: &h48, RentalDurationSeconds: &h48, PlaybackDurationSeconds: &h48}}, exp48},
		{policy.PresetRental48h, "playready", &Clocks{PlayReady: &PlayReadyClocks{LicenseType: "Persistent",
			ExpirationDate: &exp48, RelativeExpirationDate: "PT48H"}}, exp48},
		{policy.PresetRental48h, "fairplay", &Clocks{FairPlay: &FairPlayClocks{KeyType: "DualExpiry",
			StorageDurationSeconds: h48, PlaybackDurationSeconds: h48}}, exp48},
		{policy.PresetRental48h, "clearkey", &Clocks{ClearKey: &ClearKeyClocks{SessionType: "persistent-license",
			DurationSeconds: h48}}, exp48},
		{policy.PresetPurchase, "widevine", &Clocks{Widevine: &WidevineClocks{CanPlay: true, CanPersist: true,
			LicenseDurationSeconds: i64p(0), RentalDurationSeconds: i64p(0), PlaybackDurationSeconds: i64p(0)}}, time.Time{}},
		{policy.PresetPurchase, "playready", &Clocks{PlayReady: &PlayReadyClocks{LicenseType: "Persistent"}}, time.Time{}},
		{policy.PresetPurchase, "fairplay", &Clocks{FairPlay: &FairPlayClocks{KeyType: "PersistentUnlimited"}}, time.Time{}},
		{policy.PresetStreaming, "playready", &Clocks{PlayReady: &PlayReadyClocks{LicenseType: "NonPersistent"}}, time.Time{}},
		{policy.PresetStreaming, "clearkey", &Clocks{ClearKey: &ClearKeyClocks{SessionType: "temporary"}}, time.Time{}},
		{policy.PresetTrainer, "widevine", nil, time.Time{}},
	}
	for _, c := range cases {
		t.Run(c.preset+"/"+c.system, func(t *testing.T) {
			got, err := ClocksFor(policy.Preset(c.preset), drm.System(c.system), issued)
			if err != nil {
				t.Fatal(err)
			}
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(c.want)
			if string(gb) != string(wb) {
				t.Fatalf("clocks\n got %s\nwant %s", gb, wb)
			}
			if exp := got.ExpiresAt(issued); !exp.Equal(c.expires) {
				t.Fatalf("expires %v, want %v", exp, c.expires)
			}
		})
	}
}

func TestClocksForPlayReadyDates(t *testing.T) {
	p := policy.Preset(policy.PresetRental48h)
	p.PlayReady.RelativeExpirationDate = ""
	p.PlayReady.BeginDate = "2026-12-01T00:00:00Z"
	p.PlayReady.ExpirationDate = "2026-12-31T00:00:00Z"
	p.PlayReady.GracePeriod = "PT1H"
	p.PlayReady.PlayRight.FirstPlayExpiration = "PT24H"
	c, err := ClocksFor(p, drm.PlayReady, issued)
	if err != nil {
		t.Fatal(err)
	}
	pr := c.PlayReady
	if pr.BeginDate.Format(time.RFC3339) != "2026-12-01T00:00:00Z" || pr.ExpirationDate.Format(time.RFC3339) != "2026-12-31T00:00:00Z" ||
		pr.RelativeExpirationDate != "" || pr.GracePeriod != "PT1H" || pr.FirstPlayExpiration != "PT24H" {
		t.Fatalf("playready clocks %+v", pr)
	}
	p.PlayReady.PlayRight.FirstPlayExpiration = "48 hours"
	if _, err := ClocksFor(p, drm.PlayReady, issued); err == nil || !strings.Contains(err.Error(), "firstPlayExpiration") {
		t.Fatalf("bad duration accepted: %v", err)
	}
}

func TestParseClocks(t *testing.T) {
	cases := []struct {
		name, system, raw, want string
	}{
		{"null", "widevine", "null", ""},
		{"widevine ok", "widevine", `{"widevine":{"can_play":true,"can_persist":true,"license_duration_seconds":null,"rental_duration_seconds":0,"playback_duration_seconds":3600}}`, ""},
		{"other system", "widevine", `{"playready":{"license_type":"Persistent"}}`, "exactly the widevine member"},
		{"two members", "fairplay", `{"fairplay":{"rental_and_lease_key_type":"DualExpiry"},"clearkey":{"session_type":"temporary"}}`, "exactly"},
		{"negative", "widevine", `{"widevine":{"license_duration_seconds":-1}}`, "license_duration_seconds"},
		{"huge", "fairplay", `{"fairplay":{"rental_and_lease_key_type":"DualExpiry","storage_duration_seconds":99999999999}}`, "storage_duration_seconds"},
		{"key type", "fairplay", `{"fairplay":{"rental_and_lease_key_type":"Forever"}}`, "rental_and_lease_key_type"},
		{"license type", "playready", `{"playready":{"license_type":"Sticky"}}`, "license_type"},
		{"iso", "playready", `{"playready":{"license_type":"Persistent","first_play_expiration":"48h"}}`, "first_play_expiration"},
		{"order", "playready", `{"playready":{"license_type":"Persistent","begin_date":"2026-02-01T00:00:00Z","expiration_date":"2026-01-01T00:00:00Z"}}`, "before begin_date"},
		{"session", "clearkey", `{"clearkey":{"session_type":"forever"}}`, "session_type"},
		{"unknown field", "clearkey", `{"clearkey":{"session_type":"temporary","x":1}}`, "not a clocks object"},
		{"not json", "clearkey", `{`, "not a clocks object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseClocks(drm.System(c.system), []byte(c.raw))
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.raw != "null" && got.System() != drm.System(c.system) {
					t.Fatalf("system %q", got.System())
				}
				return
			}
			var ce *ClocksError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want a ClocksError containing %q", err, c.want)
			}
		})
	}
}

// TestClientExposesClocks runs every system through the real handler and checks the clocks
// the reference client exposes, the ClearKey extension, and the ledger's device fields.
func TestClientExposesClocks(t *testing.T) {
	f := newFixture(t, policy.Preset(policy.PresetRental48h))
	f.srv.Now = func() time.Time { return issued }
	c := NewClient(f.ts.URL, "")
	c.Device, c.ScenarioTime = "sim-android", "day 1, 00:00"
	ctx := context.Background()
	for _, sys := range []drm.System{drm.Widevine, drm.PlayReady, drm.FairPlay} {
		scheme := "cenc"
		if sys == drm.FairPlay {
			scheme = "cbcs"
		}
		lic, err := c.TestLicense(ctx, sys, initData(t, sys, f.keys, scheme))
		if err != nil {
			t.Fatalf("%s: %v", sys, err)
		}
		if lic.Clocks.System() != sys || !lic.Clocks.Persistent() || !lic.IssuedAt.Equal(issued) {
			t.Fatalf("%s: clocks %+v issued %v", sys, lic.Clocks, lic.IssuedAt)
		}
	}
	lic, err := c.ClearKey(ctx, []drm.KID{f.keys[0].KID}, true)
	if err != nil {
		t.Fatal(err)
	}
	if lic.Clocks == nil || lic.Clocks.ClearKey.DurationSeconds != 48*3600 || lic.ExpiresAt == nil ||
		!lic.ExpiresAt.Equal(issued.Add(48*time.Hour)) || lic.PolicyName != policy.PresetRental48h {
		t.Fatalf("clearkey extension not exposed: %+v", lic)
	}
	tmp, err := c.ClearKey(ctx, []drm.KID{f.keys[0].KID}, false)
	if err != nil {
		t.Fatal(err)
	}
	if tmp.Clocks.ClearKey.SessionType != "temporary" || tmp.Clocks.ClearKey.DurationSeconds != 0 || tmp.ExpiresAt != nil {
		t.Fatalf("temporary session carries a duration: %+v", tmp.Clocks.ClearKey)
	}
	for _, e := range f.ledger.Entries() {
		if e.Device != "sim-android" || e.ScenarioTime != "day 1, 00:00" || e.Decision != DecisionIssued {
			t.Fatalf("ledger entry misses the requester: %+v", e)
		}
	}
}

func TestClientRejectsTamperedClocks(t *testing.T) {
	cases := []struct{ name, terms, want string }{
		{"version", `{"version":"v9","issued_at":"2026-01-01T00:00:00Z","clocks":null}`, "version"},
		{"session mismatch", `{"version":"satchel-clearkey-ext-v1","issued_at":"2026-01-01T00:00:00Z","clocks":{"clearkey":{"session_type":"persistent-license"}}}`, "session"},
		{"bad clocks", `{"version":"satchel-clearkey-ext-v1","issued_at":"2026-01-01T00:00:00Z","clocks":{"clearkey":{"session_type":"temporary","duration_seconds":-5}}}`, "duration_seconds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var terms ClearKeyTerms
			if err := json.Unmarshal([]byte(c.terms), &terms); err != nil {
				t.Fatal(err)
			}
			lic := &License{SessionType: "temporary"}
			if err := applyClearKeyTerms(lic, &terms); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestHeaderTextBounded(t *testing.T) {
	req := httptest.NewRequest("POST", "/clearkey", nil)
	req.Header.Set(HeaderDevice, "dev\x01ice"+strings.Repeat("x", 200))
	var e Entry
	e.setRequester(req)
	if strings.ContainsRune(e.Device, 1) || len([]rune(e.Device)) != maxHeaderText {
		t.Fatalf("device %q", e.Device)
	}
}

func FuzzParseClocks(f *testing.F) {
	for _, s := range []string{
		`{"widevine":{"can_play":true,"can_persist":true,"license_duration_seconds":172800,"rental_duration_seconds":null,"playback_duration_seconds":0}}`,
		`{"playready":{"license_type":"Persistent","relative_expiration_date":"PT48H","first_play_expiration":"P2D"}}`,
		`{"fairplay":{"rental_and_lease_key_type":"DualExpiry","storage_duration_seconds":1,"playback_duration_seconds":2}}`,
		`{"clearkey":{"session_type":"persistent-license","duration_seconds":86400}}`, `null`, `{}`,
	} {
		for _, sys := range drm.AllSystems {
			f.Add(string(sys), s)
		}
	}
	f.Fuzz(func(t *testing.T, system, raw string) {
		c, err := ParseClocks(drm.System(system), []byte(raw))
		if err != nil || c == nil {
			return
		}
		// Accepted clocks are self-consistent and survive a round trip.
		_ = c.ExpiresAt(issued)
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseClocks(drm.System(system), b); err != nil {
			t.Fatalf("accepted clocks do not re-parse: %v\n%s", err, b)
		}
	})
}
