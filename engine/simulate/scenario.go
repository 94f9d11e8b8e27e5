package simulate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"satchel/internal/isodur"
)

// Offset is a scenario time: the duration since T0, the first download, which is day 1, 00:00.
// In JSON and text it is written compactly ("1d20h", "0").
type Offset time.Duration

// Day is 24 hours of scenario time.
const Day = Offset(24 * time.Hour)

// Hour is one hour of scenario time.
const Hour = Offset(time.Hour)

// Label names o as a day and a clock time relative to T0: "day 2, 20:00" (seconds are shown
// only when set). Offsets before T0 count back from day 1 ("day 0, 21:00").
func (o Offset) Label() string {
	d := time.Duration(o)
	day := int64(d / (24 * time.Hour))
	rest := d % (24 * time.Hour)
	if rest < 0 {
		day--
		rest += 24 * time.Hour
	}
	h, m, s := int(rest/time.Hour), int(rest%time.Hour/time.Minute), int(rest%time.Minute/time.Second)
	if s != 0 {
		return fmt.Sprintf("day %d, %02d:%02d:%02d", day+1, h, m, s)
	}
	return fmt.Sprintf("day %d, %02d:%02d", day+1, h, m)
}

// String writes o in the scenario grammar's duration form: "0", "47h", "1d20h", "-2d", "90s".
func (o Offset) String() string {
	if o == 0 {
		return "0"
	}
	var b strings.Builder
	d := time.Duration(o)
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.unit
		}
	}
	return b.String()
}

// MarshalText writes the compact form.
func (o Offset) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText reads a duration in the scenario grammar ("1d20h", "PT48H", "-2d").
func (o *Offset) UnmarshalText(b []byte) error {
	v, err := parseSignedDuration(string(b))
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// Action is what a scenario event does.
type Action string

// The scenario actions.
const (
	// ActionDownload downloads the content: the device acquires a license per DRM system and
	// stores the persistent ones. A later download replaces the stored license.
	ActionDownload Action = "download"
	// ActionPlay is an offline play attempt with the stored license.
	ActionPlay Action = "play"
	// ActionStop ends the play in progress.
	ActionStop Action = "stop"
	// ActionClock moves the device's wall clock by Shift (the user changes the time).
	ActionClock Action = "clock"
)

// Event is one step of a scenario.
type Event struct {
	Action Action `json:"do"`
	At     Offset `json:"at"`
	// For is how long a play lasts (0: an instant check at At); set from "for D" or a stop.
	For Offset `json:"for,omitempty"`
	// Shift is how far a clock event moves the device clock (negative: back in time).
	Shift Offset `json:"shift,omitempty"`
}

// String writes e in the compact grammar with an absolute time.
func (e Event) String() string {
	s := string(e.Action) + "@" + e.At.String()
	switch {
	case e.Action == ActionPlay && e.For > 0:
		s += " for " + e.For.String()
	case e.Action == ActionClock:
		sign := "+"
		if e.Shift < 0 {
			sign = ""
		}
		s += "=" + sign + e.Shift.String()
	}
	return s
}

// Scenario is a named list of events in time order. Stops are folded into the play they end
// (Event.For).
type Scenario struct {
	Name   string  `json:"name,omitempty"`
	Events []Event `json:"events"`
}

// String writes the scenario in the compact grammar with absolute times; ParseScenario reads
// it back to the same events.
func (s Scenario) String() string {
	parts := make([]string, len(s.Events))
	for i, e := range s.Events {
		parts[i] = e.String()
	}
	return strings.Join(parts, ",")
}

// End returns the time of the last event, or the end of the last play when it lasts longer.
func (s Scenario) End() Offset {
	var end Offset
	for _, e := range s.Events {
		end = max(end, e.At+e.For)
	}
	return end
}

// Limits of a scenario spec, generous for a teaching tool and small for a parser of
// untrusted input.
const (
	maxSpecLen = 8 << 10
	maxEvents  = 256
	maxOffset  = Offset(100 * 365 * 24 * time.Hour)
)

// ScenarioError says which event of a spec is wrong and what to write instead.
type ScenarioError struct {
	Event  int    // 1-based; 0 for the spec as a whole
	Text   string // the event as written
	Reason string
}

func (e *ScenarioError) Error() string {
	if e.Event == 0 {
		return "scenario: " + e.Reason
	}
	return fmt.Sprintf("scenario event %d %q: %s", e.Event, e.Text, e.Reason)
}

// timeHelp lists the accepted time forms; errors repeat it so the user can fix the spec.
const timeHelp = "use 0, 47h, 1d12h, PT48H, day2, day2+20h, or +47h (after the first play)"

// ParseScenario reads a scenario from one of three forms:
//   - a preset name ("rental", see Presets), which names the scenario;
//   - the compact grammar, events separated by commas:
//     download@0,play@day2+20h for 2h,play@+47h,stop@+48h,clock@day3=-2d,play@+49h
//   - JSON: {"name":"…","events":[{"do":"play","at":"day2+20h","for":"2h"},…]}
//
// Times are 0, a duration from T0 (47h, 1d12h, 90m, PT48H), dayN (the start of day N; T0 is
// day 1, 00:00), dayN+duration, or +duration: after the first play event of the scenario (or
// after the first download before any play). Events must be in time order. Without a download
// event the scenario starts with download@0.
func ParseScenario(spec string) (Scenario, error) {
	spec = strings.TrimSpace(spec)
	if len(spec) > maxSpecLen {
		return Scenario{}, &ScenarioError{Reason: fmt.Sprintf("the spec is longer than %d KiB", maxSpecLen>>10)}
	}
	if p, ok := PresetByName(strings.ToLower(spec)); ok {
		sc, err := ParseScenario(p.Spec)
		sc.Name = p.Name
		return sc, err
	}
	var raw []rawEvent
	name := ""
	if strings.HasPrefix(spec, "{") {
		var err error
		if name, raw, err = parseJSONSpec(spec); err != nil {
			return Scenario{}, err
		}
	} else {
		for _, f := range strings.Split(spec, ",") {
			raw = append(raw, rawEvent{text: strings.TrimSpace(f)})
		}
	}
	sc, err := resolve(raw)
	if err != nil {
		return Scenario{}, err
	}
	sc.Name = name
	return sc, nil
}

// rawEvent is one event before its times are resolved: compact text, or JSON fields.
type rawEvent struct {
	text            string
	do, at, dur, sh string
	json            bool
}

type jsonSpec struct {
	Name   string `json:"name"`
	Events []struct {
		Do    string `json:"do"`
		At    string `json:"at"`
		For   string `json:"for"`
		Shift string `json:"shift"`
	} `json:"events"`
}

func parseJSONSpec(spec string) (string, []rawEvent, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(spec)))
	dec.DisallowUnknownFields()
	var js jsonSpec
	if err := dec.Decode(&js); err != nil {
		return "", nil, &ScenarioError{Reason: "not a scenario JSON document: " + err.Error() +
			`; write {"events":[{"do":"play","at":"day2+20h"}]}`}
	}
	var out []rawEvent
	for _, e := range js.Events {
		text := e.Do + "@" + e.At
		out = append(out, rawEvent{text: text, do: e.Do, at: e.At, dur: e.For, sh: e.Shift, json: true})
	}
	return js.Name, out, nil
}

// split breaks a compact event into action, time, play duration and clock shift.
func (r *rawEvent) split() error {
	if r.json {
		return nil
	}
	do, rest, ok := strings.Cut(r.text, "@")
	if !ok {
		return fmt.Errorf("no @time: write ACTION@TIME, e.g. play@day2+20h")
	}
	r.do = strings.TrimSpace(do)
	if at, d, ok := strings.Cut(rest, " for "); ok {
		rest, r.dur = at, strings.TrimSpace(d)
	}
	if at, sh, ok := strings.Cut(rest, "="); ok {
		rest, r.sh = at, strings.TrimSpace(sh)
	}
	r.at = strings.TrimSpace(rest)
	return nil
}

// resolve turns raw events into a scenario: times resolved, stops folded into their plays,
// order and limits checked, and a download@0 added when the scenario has no download.
func resolve(raw []rawEvent) (Scenario, error) {
	if len(raw) == 0 || len(raw) == 1 && raw[0].text == "" && !raw[0].json {
		return Scenario{}, &ScenarioError{Reason: "no events: write e.g. download@0,play@day2+20h,play@+47h"}
	}
	if len(raw) > maxEvents {
		return Scenario{}, &ScenarioError{Reason: fmt.Sprintf("%d events; at most %d", len(raw), maxEvents)}
	}
	var sc Scenario
	var firstPlay, firstDownload *Offset
	var last Offset
	var st stopState
	for i, r := range raw {
		fail := func(format string, a ...any) error {
			return &ScenarioError{Event: i + 1, Text: r.text, Reason: fmt.Sprintf(format, a...)}
		}
		if err := r.split(); err != nil {
			return Scenario{}, fail("%v", err)
		}
		anchor := firstDownload
		if firstPlay != nil {
			anchor = firstPlay
		}
		at, err := parseTime(r.at, anchor)
		if err != nil {
			return Scenario{}, fail("%v", err)
		}
		if at < last {
			return Scenario{}, fail("%s is before the previous event (%s); list events in time order", at.Label(), last.Label())
		}
		last = at
		ev, err := buildEvent(r, at)
		if err != nil {
			return Scenario{}, fail("%v", err)
		}
		if err := st.add(&sc, ev); err != nil {
			return Scenario{}, fail("%v", err)
		}
		if ev.Action == ActionPlay && firstPlay == nil {
			firstPlay = &at
		}
		if ev.Action == ActionDownload && firstDownload == nil {
			firstDownload = &at
		}
	}
	if firstDownload == nil {
		sc.Events = append([]Event{{Action: ActionDownload}}, sc.Events...)
	}
	return sc, nil
}

// stopState tracks the play a stop event may end.
type stopState struct {
	open int // index in the scenario's events of a play without a length, +1 (0: none)
}

// add appends ev to sc, folding a stop into the play it ends.
func (st *stopState) add(sc *Scenario, ev Event) error {
	switch ev.Action {
	case ActionStop:
		if st.open == 0 {
			return fmt.Errorf("no play is in progress to stop")
		}
		p := &sc.Events[st.open-1]
		p.For, st.open = ev.At-p.At, 0
		return nil
	case ActionPlay:
		st.open = 0
		if ev.For == 0 {
			st.open = len(sc.Events) + 1
		}
	}
	sc.Events = append(sc.Events, ev)
	return nil
}

func buildEvent(r rawEvent, at Offset) (Event, error) {
	ev := Event{Action: Action(strings.ToLower(r.do)), At: at}
	switch ev.Action {
	case ActionDownload, ActionStop:
		if r.dur != "" || r.sh != "" {
			return ev, fmt.Errorf("%s takes only a time", ev.Action)
		}
	case ActionPlay:
		if r.sh != "" {
			return ev, fmt.Errorf("play takes a time and an optional \"for DURATION\"")
		}
		if r.dur != "" {
			d, err := parseDuration(r.dur)
			if err != nil {
				return ev, fmt.Errorf("play length: %v", err)
			}
			ev.For = d
		}
	case ActionClock:
		if r.sh == "" {
			return ev, fmt.Errorf("a clock change needs a shift: clock@day3=-2d moves the device clock two days back")
		}
		d, err := parseSignedDuration(r.sh)
		if err != nil {
			return ev, fmt.Errorf("clock shift: %v", err)
		}
		if d == 0 {
			return ev, fmt.Errorf("a clock shift of 0 changes nothing")
		}
		ev.Shift = d
	default:
		return ev, fmt.Errorf("unknown action %q: use download, play, stop or clock", r.do)
	}
	return ev, nil
}

// parseTime resolves a time of the grammar. anchor is the first play (or the first
// download) for "+D" times; nil when there is none yet.
func parseTime(s string, anchor *Offset) (Offset, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "":
		return 0, fmt.Errorf("no time: %s", timeHelp)
	case strings.HasPrefix(s, "+"):
		if anchor == nil {
			return 0, fmt.Errorf("%q is relative to the first play or download, and there is none yet; %s", s, timeHelp)
		}
		d, err := parseDuration(s[1:])
		if err != nil {
			return 0, err
		}
		return checkRange(*anchor + d)
	case strings.HasPrefix(s, "day"):
		num, plus, _ := strings.Cut(s[3:], "+")
		n, err := strconv.Atoi(strings.TrimSpace(num))
		if err != nil || n < 1 || n > 36500 {
			return 0, fmt.Errorf("%q: the day must be a number from 1 (T0 is day 1, 00:00); %s", s, timeHelp)
		}
		at := Offset(n-1) * Day
		if plus != "" {
			d, err := parseDuration(plus)
			if err != nil {
				return 0, err
			}
			at += d
		}
		return checkRange(at)
	}
	d, err := parseDuration(s)
	if err != nil {
		return 0, err
	}
	return checkRange(d)
}

func checkRange(o Offset) (Offset, error) {
	if o < 0 || o > maxOffset {
		return 0, fmt.Errorf("%s is outside the 100 years a scenario may span", o)
	}
	return o, nil
}

// parseSignedDuration is parseDuration with an optional sign.
func parseSignedDuration(s string) (Offset, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	d, err := parseDuration(s)
	if neg {
		d = -d
	}
	return d, err
}

// parseDuration reads 0, 47h, 1d12h, 90m, 30s or ISO 8601 (PT48H, P2D), at most 100 years.
func parseDuration(s string) (Offset, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("%q is not a duration: use 0, 47h, 1d12h, 90m or PT48H", s)
	if s == "0" {
		return 0, nil
	}
	if strings.HasPrefix(strings.ToUpper(s), "P") {
		d, err := isodur.Parse(strings.ToUpper(s))
		if err != nil {
			return 0, bad
		}
		return checkRange(Offset(d))
	}
	if s == "" {
		return 0, bad
	}
	var total Offset
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) || i > 7 {
			return 0, bad
		}
		n, _ := strconv.Atoi(s[:i])
		var unit Offset
		switch s[i] {
		case 'd':
			unit = Day
		case 'h':
			unit = Hour
		case 'm':
			unit = Offset(time.Minute)
		case 's':
			unit = Offset(time.Second)
		default:
			return 0, bad
		}
		total += Offset(n) * unit
		if total > maxOffset {
			return 0, fmt.Errorf("%q is longer than the 100 years a scenario may span", s)
		}
		s = s[i+1:]
	}
	return total, nil
}
