package ui

import (
	"fmt"
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"satchel/app/services"
	"satchel/engine/license"
)

// licenseScreen starts/stops the embedded license server and shows the live ledger.
type licenseScreen struct {
	a        *App
	obj      fyne.CanvasObject
	addr     *widget.Entry
	content  *widget.Entry
	policy   *widget.Select
	startBtn *widget.Button
	stopBtn  *widget.Button
	playBtn  *widget.Button
	urls     *widget.Label
	entries  []license.Entry
	ledger   *widget.List
	empty    *widget.Label // the ledger's empty state
	chart    *ledgerChart  // the ledger over time
	entry    *widget.Label // the selected entry, in full
	unsub    func()
	offered  string // the package folder last offered as content
}

func newLicenseScreen(a *App) *licenseScreen {
	s := &licenseScreen{a: a}
	s.addr = widget.NewEntry()
	s.content = widget.NewEntry()
	s.content.SetPlaceHolder("package folder for the demo player (optional)")
	browse := widget.NewButton("Browse…", func() { a.openFolder(s.content.SetText) })
	s.policy = widget.NewSelect(nil, nil)
	s.urls = widget.NewLabel("stopped")
	s.urls.Wrapping = fyne.TextWrapWord
	s.startBtn = widget.NewButton("Start", s.start)
	s.startBtn.Importance = widget.HighImportance
	s.stopBtn = widget.NewButton("Stop", func() {
		a.svc.StopLicenseServer()
		s.update()
	})
	s.playBtn = widget.NewButton("Play in browser", func() {
		if u, ok := a.svc.LicenseURL(); ok {
			pu, _ := url.Parse(u + "/player/")
			if err := a.openExternal(pu); err != nil {
				a.showPath("Open the player yourself", "Satchel could not open a browser ("+err.Error()+"). "+
					"Open this address in one:", pu.String())
			}
		}
	})
	s.ledger = widget.NewList(func() int { return len(s.entries) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("ledger entry")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			e := s.entries[len(s.entries)-1-i]
			l := o.(*widget.Label)
			l.SetText(ledgerLine(e))
			switch e.Decision {
			case license.DecisionRefused:
				l.Importance = widget.DangerImportance
			case license.DecisionPlays:
				l.Importance = widget.SuccessImportance
			default:
				l.Importance = widget.MediumImportance
			}
			l.Refresh()
		})
	s.empty = widget.NewLabel("No licenses yet: start the server and play, run Verify or Simulate — every " +
		"license issued and every simulated play is recorded here.")
	s.empty.Wrapping = fyne.TextWrapWord
	s.chart = newLedgerChart()
	s.entry = widget.NewLabel("Select an entry to read it in full.")
	s.entry.Wrapping = fyne.TextWrapWord
	s.entry.Selectable = true
	s.ledger.OnSelected = func(i widget.ListItemID) {
		if i >= 0 && i < len(s.entries) {
			s.entry.SetText(ledgerLine(s.entries[len(s.entries)-1-i]))
		}
	}
	note := widget.NewLabel("ClearKey is the real W3C protocol that browsers speak. The Widevine, PlayReady and FairPlay endpoints use Satchel's documented TEST protocol " +
		"(keys wrapped for the client, policy attached, signed); real devices need the vendors' license services — export keys as CPIX and policies as AMS JSON for them. " +
		"Browsers allow EME only on HTTPS or localhost.")
	note.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(widget.NewFormItem("Address", s.addr), widget.NewFormItem("Content", container.NewBorder(nil, nil, nil, browse, s.content)), widget.NewFormItem("Policy", s.policy))
	top := container.NewVBox(heading("License server"), note, form,
		container.NewHBox(s.startBtn, s.stopBtn, s.playBtn), s.urls,
		heading("License ledger (newest first): issued licenses, and the simulated devices' acquisitions and plays"))
	list := container.NewStack(s.ledger, container.NewVBox(s.empty))
	body := container.NewVSplit(s.chart, list)
	body.Offset = 0.35
	s.obj = container.NewBorder(top, s.entry, nil, nil, body)
	ch, unsub := a.svc.SubscribeLedger()
	s.unsub = unsub
	go func() {
		for range ch {
			fyne.Do(s.loadLedger)
		}
	}()
	return s
}

func (s *licenseScreen) refresh() {
	if s.addr.Text == "" {
		st, err := s.a.svc.Settings()
		if err != nil {
			s.a.log.Warn("read settings", "err", err)
		}
		s.addr.SetText(st.LicenseAddr)
	}
	s.a.lastPackage(s.content, &s.offered)
	s.policy.Options = append([]string{noPolicy}, s.a.policyNames()...)
	if s.policy.Selected == "" {
		s.policy.SetSelected(noPolicy)
	}
	s.loadLedger()
	s.update()
}

func (s *licenseScreen) loadLedger() {
	e, err := s.a.svc.Ledger()
	if err != nil {
		s.a.log.Warn("read the license ledger", "err", err)
		return
	}
	s.entries = e
	s.empty.Hidden = len(e) > 0
	s.ledger.Refresh()
	buckets, step, err := s.a.svc.LedgerOverTime(40)
	if err != nil {
		s.a.log.Warn("ledger over time", "err", err)
	}
	s.chart.set(buckets, step)
}

func (s *licenseScreen) start() {
	opts := services.LicenseOptions{Addr: strings.TrimSpace(s.addr.Text), ContentDir: strings.TrimSpace(s.content.Text)}
	if s.policy.Selected != noPolicy {
		opts.Policy = s.policy.Selected
	}
	if _, err := s.a.svc.StartLicenseServer(s.a.ctx, opts); err != nil {
		s.a.showErr(err)
	}
	s.update()
}

func (s *licenseScreen) update() {
	u, ok := s.a.svc.LicenseURL()
	if !ok {
		s.urls.SetText("stopped")
		s.startBtn.Enable()
		s.stopBtn.Disable()
		s.playBtn.Disable()
		return
	}
	s.urls.SetText(fmt.Sprintf("running\nClearKey: %s/clearkey\nTest licenses: %s/license/widevine · /license/playready · /license/fairplay\nDemo player: %s/player/", u, u, u))
	s.startBtn.Disable()
	s.stopBtn.Enable()
	s.playBtn.Enable()
}

// ledgerLine is one ledger entry as the License server screen lists it: when, the system and
// the event, the decision (and the clock that refused a play), the (simulated) device and the
// scenario time, so a trainer can replay a session; then the license's facts.
func ledgerLine(e license.Entry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %-9s %-13s", e.Time.Local().Format("2006-01-02 15:04:05"), e.System, e.Type)
	decision := string(e.Decision)
	if decision == "" {
		decision = string(license.DecisionIssued)
	}
	b.WriteString(" " + decision)
	if e.Clock != "" {
		b.WriteString(" (" + e.Clock + ")")
	}
	if e.Device != "" {
		b.WriteString(" · device " + e.Device)
	}
	if e.ScenarioTime != "" {
		b.WriteString(" · " + e.ScenarioTime)
	}
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if e.Type != "play" || e.Policy != "" {
		fmt.Fprintf(&b, " · persistent=%v", e.Persistent)
	}
	if e.Policy != "" {
		fmt.Fprintf(&b, " · policy %q", e.Policy)
	}
	if len(e.KIDs) > 0 {
		b.WriteString(" · KIDs " + strings.Join(e.KIDs, ", "))
	}
	if e.ExpiresAt != "" {
		b.WriteString(" · expires " + e.ExpiresAt)
	}
	return b.String()
}
