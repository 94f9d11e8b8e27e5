package simulate

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"satchel/engine/drm"
	"satchel/engine/license"
	"satchel/engine/policy"
)

// serverNow is the license server's fixed clock in tests: T0 of every scenario.
var serverNow = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// testKey is a fixed content key, so content IDs and golden files are stable.
func testKey(t testing.TB) drm.ContentKey {
	t.Helper()
	kid, err := drm.ParseKID("10203040-5060-7080-90a0-b0c0d0e0f001")
	if err != nil {
		t.Fatal(err)
	}
	k := drm.ContentKey{TrackType: "SD", KID: kid}
	b, _ := hex.DecodeString("00112233445566778899aabbccddeeff")
	copy(k.Key[:], b)
	return k
}

type env struct {
	ts     *httptest.Server
	ledger *license.MemoryLedger
	keys   []drm.ContentKey
}

// newEnv runs engine/license's real handler for pol in an httptest server.
func newEnv(t testing.TB, pol *policy.Policy) *env {
	t.Helper()
	e := &env{ledger: &license.MemoryLedger{}, keys: []drm.ContentKey{testKey(t)}}
	srv := &license.Server{Keys: license.StaticKeys(e.keys), Policy: func() *policy.Policy { return pol },
		Ledger: e.ledger, Now: func() time.Time { return serverNow }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	e.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(e.ts.Close)
	return e
}

func (e *env) run(t testing.TB, d *Device, spec string) *Timeline {
	t.Helper()
	sc, err := ParseScenario(spec)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewContent(e.keys, drm.AllSystems)
	if err != nil {
		t.Fatal(err)
	}
	if d.Client == nil {
		d.Client = license.NewClient(e.ts.URL, "")
	}
	d.Now = func() time.Time { return serverNow }
	tl, err := d.Run(context.Background(), sc, c)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

// decisions writes a lane's marks as "plays", "plays|stop:<clock>" or the refusing clock.
func decisions(l Lane) []string {
	var out []string
	for _, m := range l.Marks {
		s := string(m.Outcome)
		if m.Outcome == OutcomeRefused {
			s = string(m.Clock)
		} else if m.Stopped != nil {
			s += "|stop:" + string(m.Stopped.Clock)
		}
		out = append(out, s)
	}
	return out
}

// Short names for the expected decisions, worked out by hand from the policy fields.
const (
	P      = "plays"
	noLic  = "no-license"
	np     = "not-persistent"
	wvLic  = "widevine-license-duration"
	wvRent = "widevine-rental-duration"
	wvPlay = "widevine-playback-duration"
	prExp  = "playready-expiration-date"
	prFPE  = "playready-first-play-expiration"
	fpStor = "fairplay-storage-duration"
	fpPlay = "fairplay-playback-duration"
	ckDur  = "clearkey-duration"
)

func l(s ...string) []string { return s }

// TestPresetPoliciesThroughScenarios drives every preset policy (engine/policy's four and the
// rental preset's 30-day rental) through every preset scenario for every DRM system, through
// the real license endpoints, and compares each play decision with the value worked out by
// hand from the policy fields.
//
// Times (T0 = download = day 1, 00:00): rental plays at 44 h (for 2 h), 91 h (for 2 h), 93 h;
// purchase at 1 h, 696 h (day 30), 8736 h (day 365); streaming-only at 1 h and 12 h; expired at
// 72 h; clock-rollback at 1 h and 50 h with the device clock 48 h back.
//
// Policies: "Offline rental 48 h" = Widevine license, rental and playback 48 h; PlayReady
// RelativeExpirationDate PT48H; FairPlay DualExpiry storage 48 h, playback 48 h; ClearKey 48 h.
// Purchase: unlimited everywhere. Streaming only: nothing persists. Trainer demo: ClearKey
// only, 24 h. Rental 30 d / 48 h: Widevine rental 30 d, playback 48 h, license 0; PlayReady
// P30D + FirstPlayExpiration PT48H; FairPlay storage 30 d, playback 48 h; ClearKey 32 d.
func TestPresetPoliciesThroughScenarios(t *testing.T) {
	type want map[drm.System][]string
	all := func(s ...string) want {
		return want{drm.Widevine: s, drm.PlayReady: s, drm.FairPlay: s, drm.ClearKey: s}
	}
	onlyCK := func(ck ...string) want {
		n := make([]string, len(ck))
		for i := range n {
			n[i] = noLic
		}
		return want{drm.Widevine: n, drm.PlayReady: n, drm.FairPlay: n, drm.ClearKey: ck}
	}
	cases := []struct {
		policy   *policy.Policy
		scenario string
		want     want
	}{
		// 48 h rental: first play at 44 h; the 48 h license/expiration clocks end before 91 h,
		// while FairPlay's DualExpiry playback window runs from the first play to 92 h.
		{policy.Preset(policy.PresetRental48h), PresetRental, want{
			drm.Widevine: l(P, wvLic, wvLic), drm.PlayReady: l(P, prExp, prExp),
			drm.FairPlay: l(P, P+"|stop:"+fpPlay, fpPlay), drm.ClearKey: l(P, ckDur, ckDur)}},
		{policy.Preset(policy.PresetRental48h), PresetPurchase, want{
			drm.Widevine: l(P, wvLic, wvLic), drm.PlayReady: l(P, prExp, prExp),
			drm.FairPlay: l(P, fpPlay, fpPlay), drm.ClearKey: l(P, ckDur, ckDur)}},
		{policy.Preset(policy.PresetRental48h), PresetStreamingOnly, all(P, P)},
		// 72 h: Widevine's license and rental windows both ended at 48 h; the rental (time to
		// start) is the one that names the cause.
		{policy.Preset(policy.PresetRental48h), PresetExpired, want{
			drm.Widevine: l(wvRent), drm.PlayReady: l(prExp), drm.FairPlay: l(fpStor), drm.ClearKey: l(ckDur)}},
		// Device clock 48 h back at 50 h: trusted clocks refuse, ClearKey reads 2 h and plays.
		{policy.Preset(policy.PresetRental48h), PresetClockRollback, want{
			drm.Widevine: l(P, wvLic), drm.PlayReady: l(P, prExp), drm.FairPlay: l(P, fpPlay), drm.ClearKey: l(P, P)}},

		{policy.Preset(policy.PresetPurchase), PresetRental, all(P, P, P)},
		{policy.Preset(policy.PresetPurchase), PresetPurchase, all(P, P, P)},
		{policy.Preset(policy.PresetPurchase), PresetStreamingOnly, all(P, P)},
		{policy.Preset(policy.PresetPurchase), PresetExpired, all(P)},
		{policy.Preset(policy.PresetPurchase), PresetClockRollback, all(P, P)},

		{policy.Preset(policy.PresetStreaming), PresetRental, all(np, np, np)},
		{policy.Preset(policy.PresetStreaming), PresetPurchase, all(np, np, np)},
		{policy.Preset(policy.PresetStreaming), PresetStreamingOnly, all(np, np)},
		{policy.Preset(policy.PresetStreaming), PresetExpired, all(np)},
		{policy.Preset(policy.PresetStreaming), PresetClockRollback, all(np, np)},

		// Trainer demo licenses ClearKey only (the other servers refuse), 24 h.
		{policy.Preset(policy.PresetTrainer), PresetRental, onlyCK(ckDur, ckDur, ckDur)},
		{policy.Preset(policy.PresetTrainer), PresetPurchase, onlyCK(P, ckDur, ckDur)},
		{policy.Preset(policy.PresetTrainer), PresetStreamingOnly, onlyCK(P, P)},
		{policy.Preset(policy.PresetTrainer), PresetExpired, onlyCK(ckDur)},
		{policy.Preset(policy.PresetTrainer), PresetClockRollback, onlyCK(P, P)},

		// 30-day rental: 48 h from the first play at 44 h ends at 92 h, during the second play.
		{RentalPolicy(), PresetRental, want{
			drm.Widevine: l(P, P+"|stop:"+wvPlay, wvPlay), drm.PlayReady: l(P, P+"|stop:"+prFPE, prFPE),
			drm.FairPlay: l(P, P+"|stop:"+fpPlay, fpPlay), drm.ClearKey: l(P, P, P)}},
		// Day 30 (696 h) is past the 48 h after the first play at 1 h but within ClearKey's 32 d.
		{RentalPolicy(), PresetPurchase, want{
			drm.Widevine: l(P, wvPlay, wvPlay), drm.PlayReady: l(P, prFPE, prFPE),
			drm.FairPlay: l(P, fpPlay, fpPlay), drm.ClearKey: l(P, P, ckDur)}},
		{RentalPolicy(), PresetStreamingOnly, all(P, P)},
		{RentalPolicy(), PresetExpired, all(P)},
		{RentalPolicy(), PresetClockRollback, want{
			drm.Widevine: l(P, wvPlay), drm.PlayReady: l(P, prFPE), drm.FairPlay: l(P, fpPlay), drm.ClearKey: l(P, P)}},
	}
	for _, c := range cases {
		t.Run(c.policy.Name+"/"+c.scenario, func(t *testing.T) {
			e := newEnv(t, c.policy)
			tl := e.run(t, &Device{}, c.scenario)
			for _, lane := range tl.Lanes {
				got := decisions(lane)
				if strings.Join(got, " ") != strings.Join(c.want[lane.System], " ") {
					t.Errorf("%s: got %v\nwant %v\n%s", lane.System, got, c.want[lane.System], reasons(lane))
				}
			}
		})
	}
}

func reasons(l Lane) string {
	var b strings.Builder
	for _, m := range l.Marks {
		b.WriteString("  " + m.At.Label() + ": " + m.Reason + "\n")
	}
	return b.String()
}

// TestReasonsInSystemTerms checks the wording trainers see, with times relative to T0.
func TestReasonsInSystemTerms(t *testing.T) {
	e := newEnv(t, RentalPolicy())
	tl := e.run(t, &Device{}, "download@0,play@day2+20h,play@+49h")
	want := map[drm.System]string{
		drm.PlayReady: "PlayReady FirstPlayExpiration PT48H started at the first play on day 2, 20:00 and ended on day 4, 20:00",
		drm.Widevine:  "Widevine playback_duration_seconds 172800 (48 h) started at the first play on day 2, 20:00",
		drm.FairPlay:  "FairPlay DualExpiry playback duration 172800 (48 h) started at the first play on day 2, 20:00",
	}
	for _, lane := range tl.Lanes {
		if w, ok := want[lane.System]; ok && !strings.Contains(lane.Marks[1].Reason, w) {
			t.Errorf("%s reason %q, want it to contain %q", lane.System, lane.Marks[1].Reason, w)
		}
	}
	e48 := newEnv(t, policy.Preset(policy.PresetRental48h))
	tl = e48.run(t, &Device{}, "download@0,play@day4")
	if r := tl.Lanes[2].Marks[0].Reason; !strings.Contains(r, "storage duration 172800 (48 h), counted from the download on day 1, 00:00, ended on day 3, 00:00, before the first play") {
		t.Errorf("fairplay storage reason %q", r)
	}
}

// TestStoreKeepsState checks that licenses and the first play live in the Store between
// events, that a new run starts clean, and that a re-download replaces the license.
func TestStoreKeepsState(t *testing.T) {
	e := newEnv(t, RentalPolicy())
	store := &MemoryStore{}
	d := &Device{ID: "tablet", Store: store}
	tl := e.run(t, d, "download@0,play@day2,download@day3,play@day3+1h")
	lic, err := store.Load(context.Background(), Key{Device: "tablet", Content: tl.Content, System: drm.Widevine})
	if err != nil || lic == nil {
		t.Fatalf("no stored license: %v", err)
	}
	if lic.AcquiredAt != 2*Day || lic.FirstPlay == nil || *lic.FirstPlay != 2*Day+Hour || !lic.IssuedAt.Equal(serverNow) {
		t.Fatalf("stored state %+v", lic)
	}
	// The first license's windows end at the re-download; the second play is again a first play.
	wv := tl.Lanes[0]
	if !wv.Marks[1].FirstPlay || !strings.Contains(wv.Windows[0].Label, "replaced on day 3, 00:00") {
		t.Fatalf("re-download not shown: %+v", wv)
	}
	// A second run removes the device's licenses of this content first.
	if err := store.Save(context.Background(), Key{Device: "tablet", Content: tl.Content, System: drm.PlayReady},
		&StoredLicense{System: drm.PlayReady, Persistent: true}); err != nil {
		t.Fatal(err)
	}
	tl = e.run(t, d, "play@1h")
	if tl.Lanes[1].Marks[0].Outcome != OutcomePlays || *lic.FirstPlay == 0 {
		t.Fatalf("second run: %+v", tl.Lanes[1].Marks[0])
	}
}

// TestLedgerRecordsSession checks that the server ledger names the device and scenario time of
// every license it issued and that the simulator records each play decision.
func TestLedgerRecordsSession(t *testing.T) {
	e := newEnv(t, policy.Preset(policy.PresetStreaming))
	e.run(t, &Device{ID: "phone", Ledger: e.ledger}, "download@0,play@day1+12h")
	var issued, plays, refusedAcq int
	for _, en := range e.ledger.Entries() {
		if en.Device != "phone" || en.ScenarioTime == "" {
			t.Fatalf("entry without device or scenario time: %+v", en)
		}
		switch {
		case en.Decision == license.DecisionIssued:
			issued++
		case en.Type == "play" && en.Decision == license.DecisionRefused && en.Clock == string(ClockNotPersistent):
			plays++
			if en.ScenarioTime != "day 1, 12:00" {
				t.Fatalf("play at %q", en.ScenarioTime)
			}
		case en.Type == "acquire":
			refusedAcq++
		}
	}
	// ClearKey's persistent request is refused (not an issued license); its temporary fallback
	// is issued. So: 4 issued (3 test licenses + temporary ClearKey), 4 refused plays.
	if issued != 4 || plays != 4 || refusedAcq != 0 {
		t.Fatalf("issued %d, refused plays %d, refused acquisitions %d", issued, plays, refusedAcq)
	}
}

// TestClockRules covers clocks the presets do not reach.
func TestClockRules(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	cases := []struct {
		name   string
		policy func(p *policy.Policy)
		device Device
		spec   string
		system drm.System
		want   []string
	}{
		{"widevine unset durations on Android 4.4", func(p *policy.Policy) {
			p.Widevine.PolicyOverrides.LicenseDurationSeconds = nil
		}, Device{AndroidAPI: 19}, "play@1h", drm.Widevine, l("widevine-unset-duration")},
		{"widevine unset durations on Android 7", func(p *policy.Policy) {
			p.Widevine.PolicyOverrides.LicenseDurationSeconds = nil
		}, Device{AndroidAPI: 24}, "play@1h", drm.Widevine, l(P)},
		{"widevine can_play false", func(p *policy.Policy) { p.Widevine.PolicyOverrides.CanPlay = false },
			Device{}, "play@1h", drm.Widevine, l("widevine-can-play")},
		{"widevine rental without license limit", func(p *policy.Policy) {
			p.Widevine.PolicyOverrides.RentalDurationSeconds = i64(3600)
		}, Device{}, "play@2h", drm.Widevine, l(wvRent)},
		{"playready begin date", func(p *policy.Policy) { p.PlayReady.RelativeBeginDate = "P1D" },
			Device{}, "play@1h,play@day2+1h", drm.PlayReady, l("playready-begin-date", P)},
		{"playready absolute expiration", func(p *policy.Policy) {
			p.PlayReady.RelativeExpirationDate, p.PlayReady.ExpirationDate = "", "2026-03-02T08:00:00Z"
		}, Device{}, "play@23h,play@24h", drm.PlayReady, l(P, prExp)},
		{"fairplay persistent limited", func(p *policy.Policy) {
			p.FairPlay.RentalAndLeaseKeyType, p.FairPlay.RentalDuration = "PersistentLimited", 7200
		}, Device{}, "play@1h for 3h,play@2h", drm.FairPlay, l(P+"|stop:fairplay-rental-duration", "fairplay-rental-duration")},
		{"clearkey clock forward expires early", func(p *policy.Policy) {}, Device{},
			"play@1h,clock@2h=+2d,play@3h", drm.ClearKey, l(P, ckDur)},
		{"play before download", func(p *policy.Policy) {}, Device{}, "play@0,download@1h,play@2h", drm.Widevine, l(noLic, P)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := policy.Preset(policy.PresetRental48h)
			c.policy(p)
			e := newEnv(t, p)
			d := c.device
			tl := e.run(t, &d, c.spec)
			for _, lane := range tl.Lanes {
				if lane.System == c.system {
					if got := decisions(lane); strings.Join(got, " ") != strings.Join(c.want, " ") {
						t.Fatalf("got %v, want %v\n%s", got, c.want, reasons(lane))
					}
				}
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	e := newEnv(t, nil)
	sc, _ := ParseScenario("play@1h")
	k := testKey(t)
	cases := []struct {
		name    string
		device  Device
		content Content
		want    string
	}{
		{"no client", Device{}, Content{Systems: []drm.System{drm.ClearKey}, KIDs: []drm.KID{k.KID}}, "license client"},
		{"no systems", Device{Client: license.NewClient(e.ts.URL, "")}, Content{}, "no DRM system"},
		{"no init data", Device{Client: license.NewClient(e.ts.URL, "")}, Content{Systems: []drm.System{drm.Widevine}}, "no Widevine init data"},
		{"unreachable", Device{Client: license.NewClient("http://127.0.0.1:1", "")},
			Content{Systems: []drm.System{drm.ClearKey}, KIDs: []drm.KID{k.KID}}, "unreachable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := c.device
			if _, err := d.Run(context.Background(), sc, c.content); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := Device{Client: license.NewClient(e.ts.URL, "")}
	if _, err := d.Run(ctx, sc, Content{Systems: []drm.System{drm.ClearKey}, KIDs: []drm.KID{k.KID}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
}

// TestNoPolicyServer: without a policy the test licenses carry no clocks and are not
// persistent; ClearKey persistent-license sessions are allowed and unlimited.
func TestNoPolicyServer(t *testing.T) {
	e := newEnv(t, nil)
	tl := e.run(t, &Device{}, "play@1h")
	want := map[drm.System]string{drm.Widevine: np, drm.PlayReady: np, drm.FairPlay: np, drm.ClearKey: P}
	for _, lane := range tl.Lanes {
		if got := decisions(lane)[0]; got != want[lane.System] {
			t.Errorf("%s: %s, want %s", lane.System, got, want[lane.System])
		}
	}
}
