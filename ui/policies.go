package ui

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

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
	preview *widget.Entry

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
	s.preview = widget.NewMultiLineEntry()
	s.preview.Wrapping = fyne.TextWrapOff
	s.preview.Disable()

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

	save := widget.NewButton("Save policy", func() {
		p := s.build()
		if len(s.parseErrs) > 0 {
			a.showErr(fmt.Errorf("fix the highlighted values first: %s", strings.Join(s.parseErrs, "; ")))
			return
		}
		if err := a.svc.SavePolicy(p); err != nil {
			a.showErr(err)
			return
		}
		s.refresh()
		s.pick.SetSelected(p.Name)
	})
	header := container.NewVBox(heading("Offline policies"),
		container.NewBorder(nil, nil, widget.NewLabel("Start from"), nil, s.pick), container.NewBorder(nil, nil, widget.NewLabel("Name"), save, s.name), s.offline)
	forms := container.NewVScroll(container.NewVBox(wv, pr, fp, ck, tk))
	right := container.NewVSplit(container.NewVScroll(s.issues), s.preview)
	right.Offset = 0.4
	body := container.NewHSplit(forms, right)
	body.Offset = 0.55
	s.obj = container.NewBorder(header, nil, nil, nil, body)
	s.loadPolicy(policy.Preset(policy.PresetRental48h))
	return s
}

// refresh reloads the list of presets and stored policies.
func (s *policiesScreen) refresh() {
	s.pick.Options = s.a.policyNames()
	s.pick.Refresh()
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
	num := func(field string, e *widget.Entry) *int64 {
		t := strings.TrimSpace(e.Text)
		if t == "" {
			return nil
		}
		v, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			s.parseErrs = append(s.parseErrs, fmt.Sprintf("%s: %q is not a whole number of seconds", field, t))
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

// changed validates the form and updates the issues and the JSON preview.
func (s *policiesScreen) changed() {
	if s.loading {
		return
	}
	p := s.build()
	var lines []string
	for _, e := range s.parseErrs {
		lines = append(lines, "✖ "+e)
	}
	for _, is := range policy.Validate(p, s.offline.Checked) {
		mark := "⚠"
		if is.Severity == policy.SeverityError {
			mark = "✖"
		}
		lines = append(lines, fmt.Sprintf("%s %s: %s\n    → %s", mark, is.Field, is.Message, is.Fix))
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
	s.p = p
}
