package ui

import (
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"satchel/app/store"
)

// settingsScreen edits workspace settings and the passphrase.
type settingsScreen struct {
	a       *App
	obj     fyne.CanvasObject
	ws      *widget.Label
	outDir  *widget.Entry
	conc    *widget.Entry
	theme   *widget.Select
	licAddr *widget.Entry
	origin  *widget.Entry
	keep    *widget.Entry
	pass    *widget.Entry
	status  *widget.Label
}

func newSettingsScreen(a *App) *settingsScreen {
	s := &settingsScreen{a: a}
	s.ws = widget.NewLabel(a.svc.Dir)
	s.outDir = widget.NewEntry()
	s.conc = widget.NewEntry()
	s.theme = widget.NewSelect(names(store.Themes), nil)
	s.licAddr = widget.NewEntry()
	s.origin = widget.NewEntry()
	s.origin.SetPlaceHolder("https://player.example.com (CORS checks)")
	s.keep = widget.NewEntry()
	s.keep.SetPlaceHolder(fmt.Sprintf("0 = %d", store.DefaultLedgerKeep))
	s.pass = widget.NewPasswordEntry()
	s.pass.SetPlaceHolder("new passphrase (empty removes it)")
	s.status = widget.NewLabel("")
	save := widget.NewButton("Save settings", func() {
		st, err := a.svc.Settings()
		if err != nil {
			a.showErr(err)
			return
		}
		st.DefaultOutDir = strings.TrimSpace(s.outDir.Text)
		n, err := strconv.Atoi(strings.TrimSpace(s.conc.Text))
		if err != nil {
			a.showErr(fmt.Errorf("concurrency %q: write a whole number (0 = one per CPU)", s.conc.Text))
			return
		}
		keep, err := strconv.Atoi(strings.TrimSpace(s.keep.Text))
		if err != nil {
			a.showErr(fmt.Errorf("ledger entries kept %q: write a whole number (0 = %d)", s.keep.Text, store.DefaultLedgerKeep))
			return
		}
		st.Concurrency, st.Theme, st.LedgerKeep = n, store.Theme(s.theme.Selected), keep
		st.LicenseAddr, st.PlayerOrigin = strings.TrimSpace(s.licAddr.Text), strings.TrimSpace(s.origin.Text)
		if err := a.svc.SaveSettings(st); err != nil {
			a.showErr(err)
			return
		}
		a.applyTheme(st.Theme)
		s.status.SetText("saved")
	})
	setPass := widget.NewButton("Set passphrase", func() {
		if err := a.svc.WS.ChangePassphrase(s.pass.Text); err != nil {
			a.showErr(err)
			return
		}
		s.pass.SetText("")
		s.status.SetText("passphrase updated: the workspace key file is re-wrapped (SATCHEL_PASSPHRASE for the CLI)")
	})
	about := widget.NewLabel(AboutText())
	about.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(widget.NewFormItem("Workspace", s.ws), widget.NewFormItem("Default output folder", s.outDir),
		widget.NewFormItem("Concurrency (0 = CPUs)", s.conc), widget.NewFormItem("Theme", s.theme),
		widget.NewFormItem("License server address", s.licAddr), widget.NewFormItem("Player origin", s.origin),
		widget.NewFormItem("Ledger entries kept", s.keep))
	s.obj = container.NewVScroll(container.NewVBox(heading("Settings"), form, save,
		widget.NewSeparator(), widget.NewLabel("Secrets (content keys, FairPlay ASk, storage credentials) are encrypted at rest; a passphrase also protects the key file."),
		container.NewBorder(nil, nil, nil, setPass, s.pass), s.status,
		widget.NewSeparator(), heading("About"), about))
	return s
}

func (s *settingsScreen) refresh() {
	st, err := s.a.svc.Settings()
	if err != nil {
		s.a.showErr(err)
		return
	}
	s.outDir.SetText(st.DefaultOutDir)
	s.conc.SetText(strconv.Itoa(st.Concurrency))
	s.theme.SetSelected(string(st.Theme))
	s.licAddr.SetText(st.LicenseAddr)
	s.origin.SetText(st.PlayerOrigin)
	s.keep.SetText(strconv.Itoa(st.LedgerKeep))
}
