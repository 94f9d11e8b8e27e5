// Package simulate is a simulated offline device. It acquires licenses from the real license
// endpoints (through engine/license's reference client), keeps the persistent ones in a Store
// across scenario "days", and decides for every play attempt of a scenario whether it plays
// or which license clock refuses it, in the DRM system's own terms. The outcome is a Timeline
// with one lane per DRM system, rendered as text (CLI) or SVG (reports).
//
// The clock model: Widevine, PlayReady and FairPlay enforce their clocks on a trusted clock,
// so moving the device clock changes nothing (PlayReady: learn.microsoft.com/playready/
// features/trusted-clocks); ClearKey has no trusted clock and Satchel's duration extension is
// checked on the device clock. A window that starts at the download (Widevine rental, FairPlay
// storage) limits when the first play may start; windows from the first play limit every later
// play, and a play that is still running when a window closes is stopped then.
//
// The simulator decides plays; it does not decrypt media and does not keep content keys.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"satchel/engine/drm"
	"satchel/engine/license"
)

// Key names one stored license: a device, a content and a DRM system.
type Key struct {
	Device  string
	Content string
	System  drm.System
}

// String is the key as one string ("device/content/system"), for key-value stores.
func (k Key) String() string { return k.Device + "/" + k.Content + "/" + string(k.System) }

// Store keeps a device's licenses between scenario events. Implementations must be safe for
// use by one Run at a time; the workspace persists them between runs.
type Store interface {
	// Load returns the license stored under k, or (nil, nil) when there is none.
	Load(ctx context.Context, k Key) (*StoredLicense, error)
	// Save stores (or replaces) the license under k.
	Save(ctx context.Context, k Key, lic *StoredLicense) error
	// Delete removes the license under k; deleting a missing license is not an error.
	Delete(ctx context.Context, k Key) error
}

// MemoryStore is a Store in memory. The zero value is ready to use.
type MemoryStore struct {
	mu sync.Mutex
	m  map[Key]StoredLicense
}

// Load implements Store; the result is a copy.
func (s *MemoryStore) Load(_ context.Context, k Key) (*StoredLicense, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.m[k]
	if !ok {
		return nil, nil
	}
	return &l, nil
}

// Save implements Store; it keeps a copy.
func (s *MemoryStore) Save(_ context.Context, k Key, lic *StoredLicense) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[Key]StoredLicense{}
	}
	s.m[k] = *lic
	return nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(_ context.Context, k Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
	return nil
}

// Content is what the device downloads: the systems to license and each one's init data.
type Content struct {
	// ID names the content in the store; default: the first KID.
	ID string
	// Systems are the lanes, in display order.
	Systems []drm.System
	// KIDs are the key IDs a ClearKey request names.
	KIDs []drm.KID
	// InitData is each system's license request data: a Widevine pssh box, a PlayReady pssh box
	// or Object, a FairPlay skd:// URI. ClearKey uses KIDs instead.
	InitData map[drm.System][]byte
}

// NewContent builds Content for keys signalled for systems (cenc init data; a FairPlay skd://
// URI for the first key), as a package would carry it. Policy-only simulations use it with a
// throw-away key the license server also holds.
func NewContent(keys []drm.ContentKey, systems []drm.System) (Content, error) {
	if len(keys) == 0 {
		return Content{}, errors.New("simulate: content needs at least one key")
	}
	c := Content{Systems: systems, InitData: map[drm.System][]byte{}}
	for _, k := range keys {
		c.KIDs = append(c.KIDs, k.KID)
	}
	for _, sys := range systems {
		switch sys {
		case drm.FairPlay:
			c.InitData[sys] = []byte(drm.FairPlaySKD("", keys[0].KID))
		case drm.Widevine, drm.PlayReady:
			boxes, err := drm.PSSHBoxes(drm.Signalling{Scheme: drm.SchemeCENC, Keys: keys, Systems: []drm.System{sys}})
			if err != nil {
				return Content{}, fmt.Errorf("simulate: %s init data: %w", sys, err)
			}
			b, err := drm.BoxBytes(boxes[0])
			if err != nil {
				return Content{}, fmt.Errorf("simulate: %s init data: %w", sys, err)
			}
			c.InitData[sys] = b
		case drm.ClearKey:
		default:
			return Content{}, fmt.Errorf("simulate: unknown system %q", sys)
		}
	}
	return c, nil
}

func (c Content) id() string {
	if c.ID != "" {
		return c.ID
	}
	if len(c.KIDs) > 0 {
		return c.KIDs[0].String()
	}
	return "content"
}

// Device is a simulated player that keeps licenses across scenario days.
type Device struct {
	// ID names the device in the store and the ledger; default "simulated-device".
	ID string
	// Client talks to the license server (its Device and ScenarioTime are set per request on
	// a copy). Required.
	Client *license.Client
	// Store keeps the licenses; default a fresh MemoryStore.
	Store Store
	// Ledger, when set, records refused acquisitions and every play decision (the server
	// records the licenses it issues, with this device's name and the scenario time).
	Ledger license.Ledger
	// AndroidAPI is the Android API level the device runs (0: not Android, or modern). Level
	// 19 and below read unset Widevine durations as expired.
	AndroidAPI int
	// Now stamps ledger entries; default time.Now.
	Now func() time.Time
}

// Timeline is the outcome of a scenario: one lane per DRM system with the license windows and
// a mark per play attempt. It is the model the text and SVG renderings draw.
type Timeline struct {
	Device   string   `json:"device"`
	Content  string   `json:"content"`
	Policy   string   `json:"policy,omitempty"`
	Scenario Scenario `json:"scenario"`
	// Origin is the real time of T0 (the license server's clock at the first download).
	Origin time.Time `json:"origin"`
	// End is where the time axis stops.
	End   Offset `json:"end"`
	Lanes []Lane `json:"lanes"`
}

// Lane is one DRM system's row of the timeline.
type Lane struct {
	System       drm.System    `json:"system"`
	Acquisitions []Acquisition `json:"acquisitions"`
	Windows      []Window      `json:"windows"`
	Marks        []Mark        `json:"marks"`
}

// Acquisition is the result of one download for one system.
type Acquisition struct {
	At     Offset `json:"at"`
	Issued bool   `json:"issued"`
	Stored bool   `json:"stored"`
	// Reason explains a refused or unstored license in the system's terms.
	Reason      string     `json:"reason,omitempty"`
	SessionType string     `json:"session_type,omitempty"` // ClearKey
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
}

// Mark is one play attempt and its decision.
type Mark struct {
	At      Offset  `json:"at"`
	For     Offset  `json:"for,omitempty"`
	Outcome Outcome `json:"outcome"`
	// Clock is the clock that refused the play (empty when it plays).
	Clock  Clock  `json:"clock,omitempty"`
	Reason string `json:"reason,omitempty"`
	// FirstPlay is set on the play that started the license's first-play windows.
	FirstPlay bool `json:"first_play,omitempty"`
	// DeviceTime is what the device clock showed, when it had been moved.
	DeviceTime string `json:"device_time,omitempty"`
	// Stopped is set when a clock ended while the play was running.
	Stopped *Stop `json:"stopped,omitempty"`
	// Note adds what a trainer should point out (a play allowed only by a moved clock).
	Note string `json:"note,omitempty"`
}

// Stop is a play cut short by a clock.
type Stop struct {
	At     Offset `json:"at"`
	Clock  Clock  `json:"clock"`
	Reason string `json:"reason"`
}

// Label returns the mark's time label, with the device clock when it had been moved.
func (m Mark) Label() string {
	if m.DeviceTime != "" {
		return m.At.Label() + " (device clock " + m.DeviceTime + ")"
	}
	return m.At.Label()
}

// run is the state of one Run.
type run struct {
	d       *Device
	content Content
	tl      *Timeline
	shift   Offset
	// per system: the last acquisition and the licenses in the order acquired
	last     map[drm.System]Acquisition
	licenses map[drm.System][]*StoredLicense
}

// Run plays scenario sc on the device for content c: it removes the content's licenses from
// the device, then for each event acquires licenses (download), decides play attempts (play),
// or moves the device clock (clock). A license server refusal is part of the outcome; an
// unreachable server, a bad signature or a store failure is an error.
func (d *Device) Run(ctx context.Context, sc Scenario, c Content) (*Timeline, error) {
	if err := d.setup(c); err != nil {
		return nil, err
	}
	r := &run{d: d, content: c, last: map[drm.System]Acquisition{}, licenses: map[drm.System][]*StoredLicense{},
		tl: &Timeline{Device: d.ID, Content: c.id(), Scenario: sc}}
	for _, sys := range c.Systems {
		if err := d.Store.Delete(ctx, d.key(c, sys)); err != nil {
			return nil, fmt.Errorf("simulate: clear the device's %s license: %w", sys, err)
		}
		r.tl.Lanes = append(r.tl.Lanes, Lane{System: sys})
	}
	for _, ev := range sc.Events {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var err error
		switch ev.Action {
		case ActionDownload:
			err = r.download(ctx, ev.At)
		case ActionPlay:
			err = r.play(ctx, ev)
		case ActionClock:
			r.shift += ev.Shift
		}
		if err != nil {
			return nil, err
		}
	}
	r.finish()
	return r.tl, nil
}

func (d *Device) setup(c Content) error {
	if d.Client == nil {
		return errors.New("simulate: the device needs a license client")
	}
	if len(c.Systems) == 0 {
		return errors.New("simulate: no DRM system to simulate")
	}
	for _, sys := range c.Systems {
		switch {
		case sys == drm.ClearKey && len(c.KIDs) == 0:
			return errors.New("simulate: ClearKey needs the content's key IDs")
		case sys != drm.ClearKey && len(c.InitData[sys]) == 0:
			return fmt.Errorf("simulate: no %s init data (the package does not signal %s)", sys.Title(), sys.Title())
		}
	}
	if d.ID == "" {
		d.ID = "simulated-device"
	}
	if d.Store == nil {
		d.Store = &MemoryStore{}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return nil
}

func (d *Device) key(c Content, sys drm.System) Key {
	return Key{Device: d.ID, Content: c.id(), System: sys}
}

func (r *run) lane(sys drm.System) *Lane {
	for i := range r.tl.Lanes {
		if r.tl.Lanes[i].System == sys {
			return &r.tl.Lanes[i]
		}
	}
	panic("simulate: no lane for " + sys) // unreachable: lanes are made from Content.Systems
}

func (r *run) record(e license.Entry) {
	if r.d.Ledger == nil {
		return
	}
	e.Time, e.Device, e.Client = r.d.Now().UTC(), r.d.ID, "satchel-simulator"
	// A ledger failure does not change the simulated decisions; the entry is best effort.
	_ = r.d.Ledger.Record(e)
}
