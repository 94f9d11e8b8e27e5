package simulate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"satchel/engine/drm"
	"satchel/engine/license"
)

// download acquires and stores a license per system at scenario time at.
func (r *run) download(ctx context.Context, at Offset) error {
	for _, sys := range r.content.Systems {
		acq, lic, err := r.acquire(ctx, sys, at)
		if err != nil {
			return err
		}
		lane := r.lane(sys)
		lane.Acquisitions = append(lane.Acquisitions, acq)
		r.last[sys] = acq
		key := r.d.key(r.content, sys)
		if lic == nil || !acq.Stored {
			if err := r.d.Store.Delete(ctx, key); err != nil {
				return fmt.Errorf("simulate: remove the %s license: %w", sys, err)
			}
			continue
		}
		if r.tl.Origin.IsZero() {
			r.tl.Origin = lic.IssuedAt.Add(-time.Duration(at))
		}
		lic.Origin = r.tl.Origin
		if r.tl.Policy == "" {
			r.tl.Policy = lic.PolicyName
		}
		if err := r.d.Store.Save(ctx, key, lic); err != nil {
			return fmt.Errorf("simulate: store the %s license: %w", sys, err)
		}
		r.licenses[sys] = append(r.licenses[sys], lic)
	}
	return nil
}

// acquire requests sys's license through the real endpoint. A refusal by the server is an
// unissued Acquisition; transport and verification failures are errors.
func (r *run) acquire(ctx context.Context, sys drm.System, at Offset) (Acquisition, *StoredLicense, error) {
	cl := *r.d.Client
	cl.Device, cl.ScenarioTime = r.d.ID, at.Label()
	acq := Acquisition{At: at}
	var lic *license.License
	var err error
	if sys == drm.ClearKey {
		lic, err = cl.ClearKey(ctx, r.content.KIDs, true)
		var se *license.StatusError
		if errors.As(err, &se) && se.Status == http.StatusForbidden {
			// An offline app asks for a persistent-license first and falls back to a temporary
			// session, which it cannot keep.
			acq.Reason = "persistent-license refused: " + se.Reason
			lic, err = cl.ClearKey(ctx, r.content.KIDs, false)
		}
	} else {
		lic, err = cl.TestLicense(ctx, sys, r.content.InitData[sys])
	}
	var se *license.StatusError
	if errors.As(err, &se) {
		acq.Reason = fmt.Sprintf("the license server refused the %s license (HTTP %d): %s", sys.Title(), se.Status, se.Reason)
		r.record(license.Entry{System: string(sys), Type: "acquire", ScenarioTime: at.Label(),
			Decision: license.DecisionRefused, Reason: acq.Reason})
		return acq, nil, nil
	}
	if err != nil {
		return acq, nil, fmt.Errorf("simulate: %s license at %s: %w", sys.Title(), at.Label(), err)
	}
	acq.Issued, acq.ExpiresAt, acq.SessionType = true, lic.ExpiresAt, lic.SessionType
	persistent := lic.Persistent
	if lic.Clocks != nil {
		persistent = persistent && lic.Clocks.Persistent()
	}
	acq.Stored = persistent
	if !persistent {
		acq.Reason = joinReason(acq.Reason, notStoredReason(sys, lic.Clocks))
	}
	issued := lic.IssuedAt
	if issued.IsZero() {
		issued = r.d.Now().UTC()
	}
	return acq, &StoredLicense{System: sys, Content: r.content.id(), KIDs: lic.KIDs, PolicyName: lic.PolicyName,
		Persistent: persistent, IssuedAt: issued, AcquiredAt: at, Clocks: lic.Clocks}, nil
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// play decides one play attempt on every lane.
func (r *run) play(ctx context.Context, ev Event) error {
	for _, sys := range r.content.Systems {
		m, lic, err := r.decidePlay(ctx, sys, ev)
		if err != nil {
			return err
		}
		if r.shift != 0 {
			m.DeviceTime = (ev.At + r.shift).Label()
		}
		lane := r.lane(sys)
		lane.Marks = append(lane.Marks, m)
		e := license.Entry{System: string(sys), Type: "play", ScenarioTime: m.Label(), Decision: license.DecisionPlays,
			Clock: string(m.Clock), Reason: m.Reason}
		if m.Outcome == OutcomeRefused {
			e.Decision = license.DecisionRefused
		}
		if lic != nil {
			e.KIDs, e.Persistent, e.Policy = lic.KIDs, lic.Persistent, lic.PolicyName
		}
		r.record(e)
	}
	return nil
}

func (r *run) decidePlay(ctx context.Context, sys drm.System, ev Event) (Mark, *StoredLicense, error) {
	m := Mark{At: ev.At, For: ev.For, Outcome: OutcomeRefused}
	key := r.d.key(r.content, sys)
	lic, err := r.d.Store.Load(ctx, key)
	if err != nil {
		return m, nil, fmt.Errorf("simulate: load the %s license: %w", sys, err)
	}
	if lic == nil {
		m.Clock, m.Reason = r.noLicense(sys)
		return m, nil, nil
	}
	chk := lic.decide(ev.At, r.shift, rules{androidAPI: r.d.AndroidAPI})
	if !chk.ok {
		m.Clock, m.Reason = chk.clock, chk.reason
		return m, lic, nil
	}
	m.Outcome = OutcomePlays
	if lic.deviceClockOnly(ev.At, r.shift) {
		m.Note = fmt.Sprintf("plays only because the device clock was set %s: %s has no trusted clock, "+
			"its duration is checked on the device clock", shiftLabel(r.shift), sys.Title())
	}
	if lic.FirstPlay == nil {
		lic.FirstPlay, m.FirstPlay = ptr(ev.At), true
		if err := r.d.Store.Save(ctx, key, lic); err != nil {
			return m, lic, fmt.Errorf("simulate: store the %s license: %w", sys, err)
		}
		r.remember(sys, lic)
	}
	if ev.For > 0 {
		if at, w := lic.interruption(ev.At, ev.At+ev.For, r.shift); at != nil {
			m.Stopped = &Stop{At: *at, Clock: w.Clock, Reason: lic.ended(*w, r.shift)}
		}
	}
	return m, lic, nil
}

// remember copies the device state of a stored license into the run's record of it, which
// the timeline's windows are drawn from.
func (r *run) remember(sys drm.System, lic *StoredLicense) {
	ls := r.licenses[sys]
	if len(ls) > 0 {
		ls[len(ls)-1].FirstPlay = lic.FirstPlay
	}
}

func (r *run) noLicense(sys drm.System) (Clock, string) {
	a, ok := r.last[sys]
	switch {
	case !ok:
		return ClockNoLicense, "no " + sys.Title() + " license: nothing has been downloaded yet"
	case !a.Issued:
		return ClockNoLicense, a.Reason + " (at the download on " + a.At.Label() + ")"
	}
	return ClockNotPersistent, a.Reason
}

// finish lays out every stored license's windows (a license replaced by a later download
// ends there) and sets the time axis.
func (r *run) finish() {
	for i := range r.tl.Lanes {
		lane := &r.tl.Lanes[i]
		ls := r.licenses[lane.System]
		for j, l := range ls {
			for _, w := range l.Windows() {
				if j+1 < len(ls) {
					next := ls[j+1].AcquiredAt
					if w.To == nil || *w.To > next {
						w.To = ptr(next)
						w.Label += " (replaced on " + next.Label() + ")"
					}
				}
				lane.Windows = append(lane.Windows, w)
			}
		}
	}
	r.tl.End = axisEnd(r.tl)
}

// axisEnd is where the time axis stops: past the last event, including window ends that are
// close to it, rounded up to a whole day.
func axisEnd(tl *Timeline) Offset {
	end := tl.Scenario.End()
	near := 2*end + 2*Day
	for _, l := range tl.Lanes {
		for _, w := range l.Windows {
			if w.To != nil && *w.To > end && *w.To <= near {
				end = *w.To
			}
		}
	}
	end += max(end/10, 6*Hour)
	if rem := end % Day; rem != 0 {
		end += Day - rem
	}
	return max(end, Day)
}
