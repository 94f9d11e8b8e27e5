package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/app/services"
	"satchel/engine/policy"
)

// policiesScreen edits a policy per DRM with inline validation and a JSON preview.
type policiesScreen struct {
	a       *App
	obj     fyne.CanvasObject
	p       *policy.Policy
	loading bool

	pick    *widget.Select
	name    *widget.Entry
	offline *widget.Check
	issues  *widget.Label
	preview *widget.Label
	about   *widget.Label // built-in (read-only) or the user's policy
	loaded  string        // the name of the policy loaded into the form
	blocked error         // why the form cannot be saved (nil: it can)

	saveBtn, saveAsBtn, delBtn, restoreBtn *widget.Button
	entries                                map[string]*widget.Entry // policy field path → its entry

	wvOn, wvPlay, wvPersist, wvRenew *widget.Check
	wvLicense, wvRental, wvPlayback  *widget.Entry
	wvRenewURL                       *widget.Entry

	prOn                        *widget.Check
	prType, prSL, prUnknown     *widget.Select
	prRelExp                    *widget.Entry
	prCDV, prUDV, prAnalog      *widget.Select
	fpOn                        *widget.Check
	fpType                      *widget.Select
	fpRental, fpStorage, fpPlay *widget.Entry
	fpASk                       *widget.Entry
	ckOn                        *widget.Check
	ckType                      *widget.Select
	ckDur                       *widget.Entry
	tkType, tkKeyType           *widget.Select
	tkIssuer, tkAudience, tkKey *widget.Entry
	parseErrs                   []string
	parseFault                  map[*widget.Entry]error // entries whose text does not parse
	fault                       map[*widget.Entry]error // entries at fault: highlighted
}

func newPoliciesScreen(a *App) *policiesScreen {
	s := &policiesScreen{a: a, loading: true}
	ch := func(bool) { s.changed() }
	ent := func(ph string) *widget.Entry {
		e := widget.NewEntry()
		e.SetPlaceHolder(ph)
		e.OnChanged = func(string) { s.changed() }
		return e
	}
	sel := func(opts []string) *widget.Select {
		w := widget.NewSelect(opts, func(string) { s.changed() })
		return w
	}
	s.pick = widget.NewSelect(nil, func(name string) { s.load(name) })
	s.name = ent("policy name")
	s.offline = widget.NewCheck("validate for offline (download and play later)", ch)
	s.offline.SetChecked(true)
	s.issues = widget.NewLabel("")
	s.issues.Wrapping = fyne.TextWrapWord
	s.preview = widget.NewLabel("")
	s.preview.TextStyle.Monospace = true
	s.preview.Selectable = true
	s.about = widget.NewLabel("")
	s.about.Wrapping = fyne.TextWrapWord

	s.wvOn, s.wvPlay, s.wvPersist, s.wvRenew = widget.NewCheck("Widevine", ch), widget.NewCheck("can_play", ch), widget.NewCheck("can_persist (offline)", ch), widget.NewCheck("can_renew", ch)
	s.wvLicense, s.wvRental, s.wvPlayback = ent("unset"), ent("unset"), ent("unset")
	s.wvRenewURL = ent("https://…")
	s.prOn = widget.NewCheck("PlayReady", ch)
	s.prType = sel([]string{"Persistent", "NonPersistent"})
	s.prSL = sel([]string{"SL150", "SL2000", "SL3000"})
	s.prUnknown = sel([]string{"NotAllowed", "Allowed", "AllowedWithVideoConstriction"})
	s.prRelExp = ent("e.g. PT48H (empty: no expiry)")
	opl := func(v []int) *widget.Select {
		o := []string{"(unset)"}
		for _, x := range v {
			o = append(o, strconv.Itoa(x))
		}
		return sel(o)
	}
	s.prCDV, s.prUDV, s.prAnalog = opl(policy.OPLCompressedDigitalVideo), opl(policy.OPLUncompressedDigitalVideo), opl(policy.OPLAnalogVideo)
	s.fpOn = widget.NewCheck("FairPlay", ch)
	s.fpType = sel([]string{"Undefined", "DualExpiry", "PersistentUnlimited", "PersistentLimited"})
	s.fpRental, s.fpStorage, s.fpPlay = ent("seconds"), ent("seconds to start watching"), ent("seconds after start")
	s.fpASk = widget.NewPasswordEntry()
	s.fpASk.SetPlaceHolder("ASk: 32 hex digits (stored encrypted)")
	s.fpASk.OnChanged = func(string) { s.changed() }
	s.ckOn = widget.NewCheck("ClearKey", ch)
	s.ckType = sel([]string{"temporary", "persistent-license"})
	s.ckDur = ent("seconds (0: unlimited)")
	s.tkType = sel([]string{policy.RestrictionOpen, policy.RestrictionJWT})
	s.tkKeyType = sel([]string{"symmetric", "rsa", "x509"})
	s.tkIssuer, s.tkAudience = ent("issuer"), ent("audience")
	s.tkKey = widget.NewPasswordEntry()
	s.tkKey.SetPlaceHolder("HS256 key (base64) or PEM")
	s.tkKey.OnChanged = func(string) { s.changed() }

	form := func(items ...*widget.FormItem) *widget.Form { return widget.NewForm(items...) }
	fi := widget.NewFormItem
	wv := widget.NewCard("", "Widevine policy_overrides (AMS widevineTemplate)", container.NewVBox(s.wvOn, container.NewHBox(s.wvPlay, s.wvPersist, s.wvRenew),
		form(fi("license_duration_seconds", s.wvLicense), fi("rental_duration_seconds", s.wvRental), fi("playback_duration_seconds", s.wvPlayback), fi("renewal_server_url", s.wvRenewURL))))
	pr := widget.NewCard("", "PlayReady license", container.NewVBox(s.prOn, form(fi("License type", s.prType), fi("Security level", s.prSL), fi("Relative expiration", s.prRelExp),
		fi("Compressed digital video OPL", s.prCDV), fi("Uncompressed digital video OPL", s.prUDV), fi("Analog video OPL", s.prAnalog), fi("Unknown outputs", s.prUnknown))))
	fp := widget.NewCard("", "FairPlay (offline rental)", container.NewVBox(s.fpOn, form(fi("Rental and lease key type", s.fpType), fi("Rental duration", s.fpRental),
		fi("Offline storage duration", s.fpStorage), fi("Offline playback duration", s.fpPlay), fi("ASk", s.fpASk))))
	ck := widget.NewCard("", "W3C ClearKey", container.NewVBox(s.ckOn, form(fi("Session type", s.ckType), fi("License duration", s.ckDur))))
	tk := widget.NewCard("", "Key delivery restriction", form(fi("Restriction", s.tkType), fi("Issuer", s.tkIssuer), fi("Audience", s.tkAudience), fi("Key type", s.tkKeyType), fi("Verification key", s.tkKey)))

	s.saveBtn = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), s.save)
	s.saveBtn.Importance = widget.HighImportance
	s.saveAsBtn = widget.NewButtonWithIcon("Save as…", theme.DocumentSaveIcon(), s.saveAs)
	s.delBtn = widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), s.remove)
	s.restoreBtn = widget.NewButtonWithIcon("Restore built-ins", theme.ViewRestoreIcon(), s.restore)
	s.entries = map[string]*widget.Entry{
		"widevine.policy_overrides.license_duration_seconds":  s.wvLicense,
		"widevine.policy_overrides.rental_duration_seconds":   s.wvRental,
		"widevine.policy_overrides.playback_duration_seconds": s.wvPlayback,
		"widevine.policy_overrides.renewal_server_url":        s.wvRenewURL,
		"playready.relativeExpirationDate":                    s.prRelExp,
		"fairplay.rentalDuration":                             s.fpRental,
		"fairplay.offlineRentalConfiguration":                 s.fpStorage,
		"fairplay.storageDurationSeconds":                     s.fpStorage,
		"fairplay.playbackDurationSeconds":                    s.fpPlay,
		"fairplay.ask":                                        s.fpASk,
		"clearkey.durationSeconds":                            s.ckDur,
		"token.issuer":                                        s.tkIssuer,
		"token.audience":                                      s.tkAudience,
		"name":                                                s.name,
	}
	for _, e := range s.entries {
		e.Validator = func(string) error { return s.fault[e] } // computed by changed
		e.AlwaysShowValidationError = true
	}
	s.name.OnSubmitted = func(string) { s.save() }
	header := container.NewVBox(heading("Offline policies"),
		container.NewBorder(nil, nil, widget.NewLabel("Start from"), s.restoreBtn, s.pick),
		container.NewBorder(nil, nil, widget.NewLabel("Name"), container.NewHBox(s.saveBtn, s.saveAsBtn, s.delBtn), s.name),
		s.about, s.offline)
	forms := container.NewVScroll(container.NewVBox(wv, pr, fp, ck, tk))
	right := container.NewVSplit(container.NewVScroll(s.issues), container.NewScroll(s.preview))
	right.Offset = 0.4
	body := container.NewHSplit(forms, right)
	body.Offset = 0.55
	s.obj = container.NewBorder(header, nil, nil, nil, body)
	s.loadPolicy(policy.Preset(policy.PresetRental48h))
	s.pick.Selected = policy.PresetRental48h // shown, not loaded again
	return s
}

// refresh reloads the list of presets and stored policies.
func (s *policiesScreen) refresh() {
	s.pick.Options = s.a.policyNames()
	s.pick.Refresh()
}

// builtin reports whether the form holds a built-in preset under its own name.
func (s *policiesScreen) builtin() bool {
	return services.IsBuiltinPolicy(strings.TrimSpace(s.name.Text))
}

// save stores the form under its name: never over a built-in preset, never with errors.
func (s *policiesScreen) save() {
	s.changed()
	if s.blocked != nil {
		s.a.showErr(s.blocked)
		return
	}
	s.store(s.p)
}

func (s *policiesScreen) store(p *policy.Policy) {
	if err := s.a.svc.SavePolicy(p); err != nil {
		s.a.showErr(err)
		return
	}
	s.refresh()
	s.pick.SetSelected(p.Name)
}

// saveAs asks for a new name and saves the form under it (a user policy).
func (s *policiesScreen) saveAs() {
	s.changed()
	if s.parseErrs != nil || hasErrors(s.issuesNow()) {
		s.a.showErr(s.whyBlocked(true))
		return
	}
	e := widget.NewEntry()
	base := strings.TrimSpace(s.name.Text)
	e.SetText(base + " (mine)")
	e.Validator = func(t string) error {
		switch t = strings.TrimSpace(t); {
		case t == "":
			return errors.New("give the policy a name")
		case services.IsBuiltinPolicy(t):
			return errors.New("that is a built-in preset's name")
		}
		return nil
	}
	var d *dialog.FormDialog
	d = dialog.NewForm("Save as a new policy", "Save", "Cancel", []*widget.FormItem{widget.NewFormItem("Name", e)},
		func(ok bool) {
			if !ok {
				return
			}
			p := *s.p
			p.Name = strings.TrimSpace(e.Text)
			if contains(s.a.policyNames(), p.Name) {
				c := dialog.NewConfirm("Replace policy", "Replace your policy “"+p.Name+"”?", func(yes bool) {
					if yes {
						s.store(&p)
					}
				}, s.a.win)
				s.a.showDialog(c, 0)
				return
			}
			s.store(&p)
		}, s.a.win)
	e.OnSubmitted = func(string) { d.Submit() }
	s.a.showDialog(d, 0)
	d.Resize(fyne.NewSize(480, d.MinSize().Height))
}

// remove deletes the loaded user policy after asking.
func (s *policiesScreen) remove() {
	name := s.loaded
	if name == "" || services.IsBuiltinPolicy(name) {
		return
	}
	d := dialog.NewConfirm("Delete policy", "Delete your policy “"+name+"”? Packages keep their policy.json.",
		func(ok bool) {
			if !ok {
				return
			}
			if err := s.a.svc.DeletePolicy(name); err != nil {
				s.a.showErr(err)
				return
			}
			s.refresh()
			s.pick.SetSelected(policy.PresetRental48h)
		}, s.a.win)
	s.a.showDialog(d, 0)
}

// restore makes every built-in preset read as shipped again.
func (s *policiesScreen) restore() {
	names, err := s.a.svc.RestoreBuiltinPolicies()
	if err != nil {
		s.a.showErr(err)
		return
	}
	s.refresh()
	msg := "Every built-in preset is as shipped."
	if len(names) > 0 {
		msg = "Restored the built-in " + strings.Join(names, ", ") + "."
	}
	if services.IsBuiltinPolicy(s.loaded) {
		s.load(s.loaded)
	}
	s.about.SetText(msg + " " + s.about.Text)
}

func (s *policiesScreen) load(name string) {
	p, err := s.a.svc.PolicyByName(name)
	if err != nil {
		s.a.showErr(err)
		return
	}
	s.loadPolicy(p)
}

func i64s(v *int64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatInt(*v, 10)
}

func (s *policiesScreen) loadPolicy(p *policy.Policy) {
	s.loaded = p.Name
	s.loading = true
	defer func() { s.loading = false; s.changed() }()
	s.name.SetText(p.Name)
	wv := p.Widevine
	s.wvOn.SetChecked(wv != nil)
	if wv == nil {
		wv = &policy.WidevinePolicy{}
	}
	o := wv.PolicyOverrides
	s.wvPlay.SetChecked(o.CanPlay)
	s.wvPersist.SetChecked(o.CanPersist)
	s.wvRenew.SetChecked(o.CanRenew)
	s.wvLicense.SetText(i64s(o.LicenseDurationSeconds))
	s.wvRental.SetText(i64s(o.RentalDurationSeconds))
	s.wvPlayback.SetText(i64s(o.PlaybackDurationSeconds))
	s.wvRenewURL.SetText(o.RenewalServerURL)
	pr := p.PlayReady
	s.prOn.SetChecked(pr != nil)
	if pr == nil {
		pr = &policy.PlayReadyPolicy{LicenseType: "Persistent", SecurityLevel: "SL2000", PlayRight: policy.PlayReadyRight{AllowPassingVideoContentToUnknownOutput: "NotAllowed"}}
	}
	s.prType.SetSelected(pr.LicenseType)
	s.prSL.SetSelected(pr.SecurityLevel)
	s.prRelExp.SetText(pr.RelativeExpirationDate)
	s.prUnknown.SetSelected(pr.PlayRight.AllowPassingVideoContentToUnknownOutput)
	setOPL := func(w *widget.Select, v int) {
		if v == 0 {
			w.SetSelected("(unset)")
		} else {
			w.SetSelected(strconv.Itoa(v))
		}
	}
	setOPL(s.prCDV, pr.PlayRight.CompressedDigitalVideoOpl)
	setOPL(s.prUDV, pr.PlayRight.UncompressedDigitalVideoOpl)
	setOPL(s.prAnalog, pr.PlayRight.AnalogVideoOpl)
	fp := p.FairPlay
	s.fpOn.SetChecked(fp != nil)
	if fp == nil {
		fp = &policy.FairPlayPolicy{RentalAndLeaseKeyType: "DualExpiry"}
	}
	s.fpType.SetSelected(fp.RentalAndLeaseKeyType)
	s.fpRental.SetText(strconv.FormatInt(fp.RentalDuration, 10))
	s.fpStorage.SetText("")
	s.fpPlay.SetText("")
	if rc := fp.OfflineRentalConfiguration; rc != nil {
		s.fpStorage.SetText(strconv.FormatInt(rc.StorageDurationSeconds, 10))
		s.fpPlay.SetText(strconv.FormatInt(rc.PlaybackDurationSeconds, 10))
	}
	s.fpASk.SetText(fp.ASk)
	ck := p.ClearKey
	s.ckOn.SetChecked(ck != nil)
	if ck == nil {
		ck = &policy.ClearKeyPolicy{LicenseType: "persistent-license"}
	}
	s.ckType.SetSelected(ck.LicenseType)
	s.ckDur.SetText(strconv.FormatInt(ck.DurationSeconds, 10))
	t := p.Token
	if t.Type == "" {
		t.Type = policy.RestrictionOpen
	}
	s.tkType.SetSelected(t.Type)
	s.tkIssuer.SetText(t.Issuer)
	s.tkAudience.SetText(t.Audience)
	s.tkKeyType.SetSelected(t.KeyType)
	s.tkKey.SetText(t.KeyValue)
}

// build reads the forms into a policy, collecting values that do not parse.
func (s *policiesScreen) build() *policy.Policy {
	s.parseErrs = nil
	s.parseFault = map[*widget.Entry]error{}
	num := func(field string, e *widget.Entry) *int64 {
		t := strings.TrimSpace(e.Text)
		if t == "" {
			return nil
		}
		v, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			s.parseErrs = append(s.parseErrs, fmt.Sprintf("%s: %q is not a whole number of seconds", field, t))
			s.parseFault[e] = errors.New("not a whole number of seconds")
			return nil
		}
		return &v
	}
	val := func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	}
	p := &policy.Policy{Name: strings.TrimSpace(s.name.Text)}
	if s.wvOn.Checked {
		p.Widevine = &policy.WidevinePolicy{AllowedTrackTypes: "SD_HD", PolicyOverrides: policy.WidevineOverrides{CanPlay: s.wvPlay.Checked, CanPersist: s.wvPersist.Checked, CanRenew: s.wvRenew.Checked,
			LicenseDurationSeconds: num("widevine.license_duration_seconds", s.wvLicense), RentalDurationSeconds: num("widevine.rental_duration_seconds", s.wvRental),
			PlaybackDurationSeconds: num("widevine.playback_duration_seconds", s.wvPlayback), RenewalServerURL: strings.TrimSpace(s.wvRenewURL.Text)}}
	}
	if s.prOn.Checked {
		opl := func(w *widget.Select) int { v, _ := strconv.Atoi(w.Selected); return v }
		p.PlayReady = &policy.PlayReadyPolicy{LicenseType: s.prType.Selected, SecurityLevel: s.prSL.Selected, RelativeExpirationDate: strings.TrimSpace(s.prRelExp.Text),
			PlayRight: policy.PlayReadyRight{AllowPassingVideoContentToUnknownOutput: s.prUnknown.Selected, CompressedDigitalVideoOpl: opl(s.prCDV), UncompressedDigitalVideoOpl: opl(s.prUDV), AnalogVideoOpl: opl(s.prAnalog)}}
	}
	if s.fpOn.Checked {
		p.FairPlay = &policy.FairPlayPolicy{RentalAndLeaseKeyType: s.fpType.Selected, RentalDuration: val(num("fairplay.rentalDuration", s.fpRental)), ASk: strings.TrimSpace(s.fpASk.Text)}
		st, pl := num("fairplay.storageDurationSeconds", s.fpStorage), num("fairplay.playbackDurationSeconds", s.fpPlay)
		if st != nil || pl != nil {
			p.FairPlay.OfflineRentalConfiguration = &policy.OfflineRentalConfig{StorageDurationSeconds: val(st), PlaybackDurationSeconds: val(pl)}
		}
	}
	if s.ckOn.Checked {
		p.ClearKey = &policy.ClearKeyPolicy{LicenseType: s.ckType.Selected, DurationSeconds: val(num("clearkey.durationSeconds", s.ckDur))}
	}
	p.Token = policy.TokenRestriction{Type: s.tkType.Selected}
	if p.Token.Type == policy.RestrictionJWT {
		p.Token.Issuer, p.Token.Audience, p.Token.KeyType, p.Token.KeyValue = s.tkIssuer.Text, s.tkAudience.Text, s.tkKeyType.Selected, s.tkKey.Text
	}
	return p
}

// issuesNow validates the built policy (s.p) for the chosen use.
func (s *policiesScreen) issuesNow() []policy.Issue { return policy.Validate(s.p, s.offline.Checked) }

func hasErrors(is []policy.Issue) bool {
	for _, i := range is {
		if i.Severity == policy.SeverityError {
			return true
		}
	}
	return false
}

// whyBlocked says why the form cannot be saved (nil: it can); asNew ignores the name.
func (s *policiesScreen) whyBlocked(asNew bool) error {
	switch {
	case len(s.parseErrs) > 0:
		return fmt.Errorf("fix the highlighted values first: %s", strings.Join(s.parseErrs, "; "))
	case hasErrors(s.issuesNow()):
		return errors.New("fix the errors (✖, highlighted) first: a policy with errors cannot be saved")
	case asNew:
		return nil
	case strings.TrimSpace(s.name.Text) == "":
		return errors.New("give the policy a name")
	case s.builtin():
		return &services.BuiltinPolicyError{Name: strings.TrimSpace(s.name.Text)}
	}
	return nil
}

// changed validates the form, highlights the fields at fault and updates the issues, the JSON
// preview and what can be saved.
func (s *policiesScreen) changed() {
	if s.loading {
		return
	}
	p := s.build()
	s.p = p
	var lines []string
	fault := map[*widget.Entry]error{}
	for _, e := range s.parseErrs {
		lines = append(lines, "✖ "+e)
	}
	for e, err := range s.parseFault {
		fault[e] = err
	}
	for _, is := range s.issuesNow() {
		mark := "⚠"
		if is.Severity == policy.SeverityError {
			mark = "✖"
			if e := s.entries[is.Field]; e != nil {
				fault[e] = errors.New(is.Message)
			}
		}
		lines = append(lines, fmt.Sprintf("%s %s: %s\n    → %s", mark, is.Field, is.Message, is.Fix))
	}
	s.fault = fault
	for _, e := range s.entries {
		e.SetValidationError(fault[e])
	}
	if len(lines) == 0 {
		mode := "offline"
		if !s.offline.Checked {
			mode = "streaming"
		}
		lines = append(lines, "✓ valid for "+mode+" use")
	}
	s.issues.SetText(strings.Join(lines, "\n"))
	b, _ := json.MarshalIndent(p.Redacted(), "", "  ")
	s.preview.SetText(string(b))
	s.blocked = s.whyBlocked(false)
	enable(s.saveBtn, s.blocked == nil)
	enable(s.saveAsBtn, len(s.parseErrs) == 0 && !hasErrors(s.issuesNow()))
	enable(s.delBtn, s.loaded != "" && !services.IsBuiltinPolicy(s.loaded) && s.loaded == strings.TrimSpace(s.name.Text))
	switch {
	case s.builtin():
		s.about.SetText("Built-in preset: read-only. Change what you need and use “Save as…” to keep your version.")
	case s.blocked != nil:
		s.about.SetText("Not saved: " + s.blocked.Error() + ".")
	default:
		s.about.SetText("Your policy: “Save” stores it in the workspace.")
	}
}
