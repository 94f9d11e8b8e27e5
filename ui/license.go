package ui

import (
	"fmt"
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
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
	unsub    func()
	offered  string // the package folder last offered as content
}

func newLicenseScreen(a *App) *licenseScreen {
	s := &licenseScreen{a: a}
	s.addr = widget.NewEntry()
	s.content = widget.NewEntry()
	s.content.SetPlaceHolder("package folder for the demo player (optional)")
	browse := widget.NewButton("Browse…", func() {
		dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
			if err == nil && u != nil {
				s.content.SetText(u.Path())
			}
		}, a.win)
	})
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
			a.showErr(a.fa.OpenURL(pu))
		}
	})
	s.ledger = widget.NewList(func() int { return len(s.entries) }, func() fyne.CanvasObject { return widget.NewLabel("ledger entry") },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			e := s.entries[len(s.entries)-1-i]
			exp := ""
			if e.ExpiresAt != "" {
				exp = " · expires " + e.ExpiresAt
			}
			o.(*widget.Label).SetText(fmt.Sprintf("%s  %-9s %-18s persistent=%v  policy %q  KIDs %s%s", e.Time.Local().Format("2006-01-02 15:04:05"), e.System, e.Type, e.Persistent, e.Policy, strings.Join(e.KIDs, ", "), exp))
		})
	note := widget.NewLabel("ClearKey is the real W3C protocol that browsers speak. The Widevine, PlayReady and FairPlay endpoints use Satchel's documented TEST protocol " +
		"(keys wrapped for the client, policy attached, signed); real devices need the vendors' license services — export keys as CPIX and policies as AMS JSON for them. " +
		"Browsers allow EME only on HTTPS or localhost.")
	note.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(widget.NewFormItem("Address", s.addr), widget.NewFormItem("Content", container.NewBorder(nil, nil, nil, browse, s.content)), widget.NewFormItem("Policy", s.policy))
	top := container.NewVBox(heading("License server"), note, form,
		container.NewHBox(s.startBtn, s.stopBtn, s.playBtn), s.urls, heading("License ledger (newest first)"))
	s.obj = container.NewBorder(top, nil, nil, nil, s.ledger)
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
	s.ledger.Refresh()
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
