package simulate

import (
	"fmt"
	"strings"
	"time"

	"satchel/engine/drm"
	"satchel/engine/license"
	"satchel/internal/isodur"
)

// Clock names the license clock (or other cause) behind a decision.
type Clock string

// The clocks and causes a decision names.
const (
	// ClockNone: the play was allowed.
	ClockNone Clock = ""
	// ClockNoLicense: nothing was stored (no download yet, or the server refused the license).
	ClockNoLicense Clock = "no-license"
	// ClockNotPersistent: a license was issued but is not persistent, so it was not stored.
	ClockNotPersistent Clock = "not-persistent"
	// ClockWidevineCanPlay: the Widevine license has can_play false.
	ClockWidevineCanPlay Clock = "widevine-can-play"
	// ClockWidevineUnset: an unset Widevine duration, read as expired by Android 4.4 and older.
	ClockWidevineUnset Clock = "widevine-unset-duration"
	// ClockWidevineLicense is license_duration_seconds, from the download.
	ClockWidevineLicense Clock = "widevine-license-duration"
	// ClockWidevineRental is rental_duration_seconds: the time to start playing.
	ClockWidevineRental Clock = "widevine-rental-duration"
	// ClockWidevinePlayback is playback_duration_seconds, from the first play.
	ClockWidevinePlayback Clock = "widevine-playback-duration"
	// ClockPlayReadyBegin is BeginDate (or RelativeBeginDate): not valid yet.
	ClockPlayReadyBegin Clock = "playready-begin-date"
	// ClockPlayReadyExpiration is ExpirationDate (or RelativeExpirationDate).
	ClockPlayReadyExpiration Clock = "playready-expiration-date"
	// ClockPlayReadyFirstPlay is FirstPlayExpiration, from the first play.
	ClockPlayReadyFirstPlay Clock = "playready-first-play-expiration"
	// ClockFairPlayStorage is the DualExpiry storage duration: the time to start playing.
	ClockFairPlayStorage Clock = "fairplay-storage-duration"
	// ClockFairPlayPlayback is the DualExpiry playback duration, from the first play.
	ClockFairPlayPlayback Clock = "fairplay-playback-duration"
	// ClockFairPlayRental is the PersistentLimited rental duration, from the download.
	ClockFairPlayRental Clock = "fairplay-rental-duration"
	// ClockClearKeyDuration is the ClearKey persistent-license duration (Satchel extension),
	// checked on the device clock.
	ClockClearKeyDuration Clock = "clearkey-duration"
)

// Outcome is the decision on a play attempt.
type Outcome string

// The outcomes of a play attempt.
const (
	OutcomePlays   Outcome = "plays"
	OutcomeRefused Outcome = "refused"
)

// WindowKind says what a license window limits.
type WindowKind string

// The kinds of window a timeline draws.
const (
	// WindowLicense is the validity of the stored license (Widevine license duration, PlayReady
	// begin–expiration, FairPlay PersistentLimited rental, ClearKey duration, or unlimited).
	WindowLicense WindowKind = "license"
	// WindowRental is the time allowed before the first play (Widevine rental duration,
	// FairPlay DualExpiry storage duration).
	WindowRental WindowKind = "rental"
	// WindowPlayback is the time allowed after the first play (Widevine playback duration,
	// PlayReady FirstPlayExpiration, FairPlay DualExpiry playback duration).
	WindowPlayback WindowKind = "playback"
)

// Window is one clock of a stored license laid out in scenario time: [From, To).
type Window struct {
	Kind  WindowKind `json:"kind"`
	Clock Clock      `json:"clock"`
	// Label names the clock in the system's terms: "license_duration_seconds 172800 (48 h)".
	Label string `json:"label"`
	From  Offset `json:"from"`
	// To is nil when the window has no end.
	To *Offset `json:"to,omitempty"`
	// DeviceClock: the window is checked on the device's wall clock, not a trusted clock.
	DeviceClock bool `json:"device_clock,omitempty"`
	// Anchor says what started the window: "download" or "first play" (or a fixed date).
	Anchor string `json:"anchor"`
	// Used marks a rental window that ended with the first play (it no longer applies).
	Used bool `json:"used,omitempty"`
}

// StoredLicense is what the simulated device keeps for one system and content: the license as
// issued (without its keys: the simulator decides plays, it does not decrypt) and the device's
// own state, the first play.
type StoredLicense struct {
	System     drm.System `json:"system"`
	Content    string     `json:"content"`
	KIDs       []string   `json:"kids"`
	PolicyName string     `json:"policy_name,omitempty"`
	Persistent bool       `json:"persistent"`
	// IssuedAt is the license server's clock at issue.
	IssuedAt time.Time `json:"issued_at"`
	// AcquiredAt is the scenario time of the download that got it.
	AcquiredAt Offset `json:"acquired_at"`
	// Origin is the real time of the scenario's T0 (IssuedAt minus AcquiredAt for the first
	// license); absolute PlayReady dates are placed relative to it.
	Origin time.Time `json:"origin"`
	// FirstPlay is the scenario time of the first play; nil until the license has played.
	FirstPlay *Offset `json:"first_play,omitempty"`
	// Clocks are the license's clocks as the server issued them (nil: none).
	Clocks *license.Clocks `json:"clocks"`
}

// rules are the facts about the device that change how clocks read.
type rules struct {
	// androidAPI ≤ 19 reads unset Widevine durations as expired.
	androidAPI int
}

// check is the clock evaluation of one play attempt at scenario time t with the device clock
// shifted by shift.
type check struct {
	ok     bool
	clock  Clock
	reason string
}

// Windows lays out the license's clocks in scenario time. Windows that start at the first
// play appear once the license has played.
func (l *StoredLicense) Windows() []Window {
	c := l.Clocks
	switch {
	case c == nil:
		return []Window{{Kind: WindowLicense, Label: "no clocks (no policy): unlimited", From: l.AcquiredAt,
			Anchor: "download"}}
	case c.Widevine != nil:
		return l.widevineWindows(c.Widevine)
	case c.PlayReady != nil:
		return l.playReadyWindows(c.PlayReady)
	case c.FairPlay != nil:
		return l.fairPlayWindows(c.FairPlay)
	case c.ClearKey != nil:
		w := Window{Kind: WindowLicense, Clock: ClockClearKeyDuration, From: l.AcquiredAt, DeviceClock: true,
			Anchor: "download"}
		w.Label = "persistent-license, no duration"
		if d := c.ClearKey.DurationSeconds; d > 0 {
			w.Label = "persistent-license duration_seconds " + secondsLabel(d)
			w.To = ptr(l.AcquiredAt + Offset(d)*Offset(time.Second))
		}
		return []Window{w}
	}
	return nil
}

func (l *StoredLicense) widevineWindows(w *license.WidevineClocks) []Window {
	out := []Window{
		l.fromDownload(WindowLicense, ClockWidevineLicense, "license_duration_seconds", w.LicenseDurationSeconds),
		l.untilFirstPlay(l.fromDownload(WindowRental, ClockWidevineRental, "rental_duration_seconds",
			w.RentalDurationSeconds)),
	}
	if l.FirstPlay != nil {
		out = append(out, l.fromFirstPlay(ClockWidevinePlayback, "playback_duration_seconds", w.PlaybackDurationSeconds))
	}
	return out
}

func (l *StoredLicense) fairPlayWindows(f *license.FairPlayClocks) []Window {
	switch f.KeyType {
	case license.FairPlayDualExpiry:
		s, p := f.StorageDurationSeconds, f.PlaybackDurationSeconds
		storage := l.fromDownload(WindowRental, ClockFairPlayStorage, "DualExpiry storage duration", &s)
		out := []Window{l.untilFirstPlay(storage)}
		if l.FirstPlay != nil {
			out = append(out, l.fromFirstPlay(ClockFairPlayPlayback, "DualExpiry playback duration", &p))
		}
		return out
	case license.FairPlayPersistentLimited:
		d := f.RentalDurationSeconds
		return []Window{l.fromDownload(WindowLicense, ClockFairPlayRental, "PersistentLimited rental duration", &d)}
	}
	return []Window{{Kind: WindowLicense, Label: f.KeyType + ": no time limit", From: l.AcquiredAt, Anchor: "download"}}
}

// untilFirstPlay ends a rental window (time to start playing) at the first play, once there
// is one: from then on the first-play windows apply.
func (l *StoredLicense) untilFirstPlay(w Window) Window {
	if l.FirstPlay == nil {
		return w
	}
	if w.To == nil || *l.FirstPlay < *w.To {
		w.To = ptr(*l.FirstPlay)
	}
	w.Used = true
	w.Label += ", until the first play"
	return w
}

func (l *StoredLicense) playReadyWindows(p *license.PlayReadyClocks) []Window {
	w := Window{Kind: WindowLicense, Clock: ClockPlayReadyExpiration, From: l.AcquiredAt, Anchor: "download"}
	var label []string
	if begin, lbl, ok := l.playReadyDate(p.RelativeBeginDate, p.BeginDate, "BeginDate"); ok {
		w.From, label = begin, append(label, lbl)
	}
	if end, lbl, ok := l.playReadyDate(p.RelativeExpirationDate, p.ExpirationDate, "ExpirationDate"); ok {
		w.To, label = &end, append(label, lbl)
	}
	if len(label) == 0 {
		label = append(label, "no expiration")
	}
	w.Label = strings.Join(label, ", ")
	out := []Window{w}
	if l.FirstPlay != nil && p.FirstPlayExpiration != "" {
		d, err := isodur.Parse(p.FirstPlayExpiration)
		if err == nil && d > 0 {
			out = append(out, Window{Kind: WindowPlayback, Clock: ClockPlayReadyFirstPlay,
				Label: "FirstPlayExpiration " + p.FirstPlayExpiration, From: *l.FirstPlay,
				To: ptr(*l.FirstPlay + Offset(d)), Anchor: "first play"})
		}
	}
	return out
}

// playReadyDate places a PlayReady date: a relative one from the download, an absolute one
// from the scenario's origin.
func (l *StoredLicense) playReadyDate(rel string, abs *time.Time, name string) (Offset, string, bool) {
	if rel != "" {
		if d, err := isodur.Parse(rel); err == nil {
			return l.AcquiredAt + Offset(d), "Relative" + name + " " + rel, true
		}
	}
	if abs != nil {
		return Offset(abs.Sub(l.Origin)), name + " " + abs.UTC().Format(time.RFC3339), true
	}
	return 0, "", false
}

func (l *StoredLicense) fromDownload(kind WindowKind, clock Clock, name string, secs *int64) Window {
	w := Window{Kind: kind, Clock: clock, From: l.AcquiredAt, Anchor: "download"}
	switch {
	case secs == nil:
		w.Label = name + " unset"
	case *secs == 0:
		w.Label = name + " 0 (unlimited)"
	default:
		w.Label = name + " " + secondsLabel(*secs)
		w.To = ptr(l.AcquiredAt + Offset(*secs)*Offset(time.Second))
	}
	return w
}

func (l *StoredLicense) fromFirstPlay(clock Clock, name string, secs *int64) Window {
	w := l.fromDownload(WindowPlayback, clock, name, secs)
	w.From, w.Anchor = *l.FirstPlay, "first play"
	if w.To != nil {
		w.To = ptr(*l.FirstPlay + Offset(*secs)*Offset(time.Second))
	}
	return w
}

// decide checks a play attempt at scenario time t (device clock shifted by shift) against the
// stored license. It does not change the license.
func (l *StoredLicense) decide(t, shift Offset, r rules) check {
	if c := l.Clocks; c != nil && c.Widevine != nil {
		if !c.Widevine.CanPlay {
			return check{clock: ClockWidevineCanPlay, reason: "Widevine can_play is false: the license grants no playback"}
		}
		if r.androidAPI > 0 && r.androidAPI <= 19 {
			if name := unsetWidevine(c.Widevine); name != "" {
				return check{clock: ClockWidevineUnset, reason: fmt.Sprintf("Widevine %s is unset: Android %d reads it as "+
					"9223372036854775807 and treats the license as expired (google/ExoPlayer #3150)", name, r.androidAPI)}
			}
		}
	}
	var hit *Window
	for _, w := range l.Windows() {
		if w.Used {
			continue
		}
		at := t
		if w.DeviceClock {
			at = t + shift
		}
		if at < w.From {
			clock := w.Clock
			if clock == ClockPlayReadyExpiration {
				clock = ClockPlayReadyBegin
			}
			return check{clock: clock, reason: l.notYet(w)}
		}
		if w.To != nil && at >= *w.To && (hit == nil || *w.To < *hit.To || *w.To == *hit.To && w.Kind != WindowLicense) {
			hit = &w
		}
	}
	if hit != nil {
		return check{clock: hit.Clock, reason: l.ended(*hit, shift)}
	}
	return check{ok: true}
}

// deviceClockOnly reports whether a play at t that the device-clock windows allow would have
// been refused on the true time: the device clock was moved to extend the license.
func (l *StoredLicense) deviceClockOnly(t, shift Offset) bool {
	if shift == 0 {
		return false
	}
	for _, w := range l.Windows() {
		if w.DeviceClock && w.To != nil && t >= *w.To {
			return true
		}
	}
	return false
}

// interruption returns the first window end in (start, stop] of a play that started at start
// (the license already records a first play), or nil.
func (l *StoredLicense) interruption(start, stop, shift Offset) (*Offset, *Window) {
	var at *Offset
	var win *Window
	for _, w := range l.Windows() {
		if w.To == nil || w.Kind == WindowRental || w.Used {
			continue
		}
		end := *w.To
		if w.DeviceClock {
			end -= shift
		}
		if end > start && end <= stop && (at == nil || end < *at) {
			at, win = ptr(end), &w
		}
	}
	return at, win
}

func unsetWidevine(w *license.WidevineClocks) string {
	for _, f := range []struct {
		name string
		v    *int64
	}{{"license_duration_seconds", w.LicenseDurationSeconds}, {"rental_duration_seconds", w.RentalDurationSeconds},
		{"playback_duration_seconds", w.PlaybackDurationSeconds}} {
		if f.v == nil {
			return f.name
		}
	}
	return ""
}

// ended phrases a window that has run out, in the system's terms with times relative to T0:
// "PlayReady FirstPlayExpiration PT48H started at the first play on day 2, 20:00 and ended on
// day 4, 20:00".
func (l *StoredLicense) ended(w Window, shift Offset) string {
	s := l.System.Title() + " " + w.Label
	switch w.Anchor {
	case "first play":
		s += " started at the first play on " + w.From.Label() + " and ended on " + w.To.Label()
	case "download":
		s += ", counted from the download on " + w.From.Label() + ", ended on " + w.To.Label()
	default:
		s += " ended on " + w.To.Label()
	}
	if w.Kind == WindowRental {
		s += ", before the first play"
	}
	switch {
	case w.DeviceClock:
		s += " by the device clock"
		if shift != 0 {
			s += fmt.Sprintf(" (set %s)", shiftLabel(shift))
		}
	case shift != 0:
		s += fmt.Sprintf(" (a trusted clock: setting the device clock %s does not move it)", shiftLabel(shift))
	}
	return s
}

func (l *StoredLicense) notYet(w Window) string {
	return fmt.Sprintf("%s %s: the license is not valid before %s", l.System.Title(), w.Label, w.From.Label())
}

// notStoredReason says, in the system's terms, why a license was not kept for offline play.
func notStoredReason(sys drm.System, c *license.Clocks) string {
	switch {
	case c == nil:
		return sys.Title() + " license issued without a policy is not persistent, so it was not stored"
	case c.Widevine != nil:
		return "Widevine can_persist is false: the license was not stored, so offline play is refused"
	case c.PlayReady != nil:
		return "PlayReady licenseType " + c.PlayReady.LicenseType + ": the license was not stored, so offline play is refused"
	case c.FairPlay != nil:
		return "FairPlay rentalAndLeaseKeyType " + c.FairPlay.KeyType +
			": the key is not persistable, so offline play is refused"
	case c.ClearKey != nil:
		return "ClearKey session type " + c.ClearKey.SessionType + ": the license was not stored, so offline play is refused"
	}
	return sys.Title() + " license was not stored"
}

// secondsLabel writes a duration in seconds with a human reading: "172800 (48 h)".
func secondsLabel(s int64) string {
	return fmt.Sprintf("%d (%s)", s, human(Offset(s)*Offset(time.Second)))
}

// human writes a duration for people: "48 h", "30 d", "1 d 12 h", "90 min".
func human(o Offset) string {
	d := time.Duration(o)
	switch {
	case d == 0:
		return "0 s"
	case d%(24*time.Hour) == 0 && d >= 72*time.Hour:
		return fmt.Sprintf("%d d", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return fmt.Sprintf("%d s", d/time.Second)
}

func shiftLabel(s Offset) string {
	if s < 0 {
		return human(-s) + " back"
	}
	return human(s) + " forward"
}

func ptr[T any](v T) *T { return &v }
