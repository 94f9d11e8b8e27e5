package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"satchel/app/services"
	"satchel/engine/policy"
)

// TestBuiltinPresetIsReadOnly loads a built-in preset: Save is disabled and refused, the
// services refuse it too; an invalid value is highlighted on its field and blocks Save as…;
// Save as… under a new name stores a user policy, which Save may then update; "Restore
// built-ins" removes a copy that shadows a preset.
func TestBuiltinPresetIsReadOnly(t *testing.T) {
	a := newTestApp(t)
	a.Show(ScreenPolicies)
	s := a.policies
	s.pick.SetSelected(policy.PresetRental48h)
	if !s.saveBtn.Disabled() || s.saveAsBtn.Disabled() || !s.delBtn.Disabled() {
		t.Fatalf("built-in: save %v, save as %v, delete %v disabled", s.saveBtn.Disabled(), s.saveAsBtn.Disabled(),
			s.delBtn.Disabled())
	}
	if !strings.Contains(s.about.Text, "read-only") {
		t.Errorf("about %q", s.about.Text)
	}
	s.wvLicense.SetText("3600")
	s.save() // Enter in the name field
	if !strings.Contains(a.lastError, "built-in preset") || len(a.dialogs) != 1 {
		t.Fatalf("saving over a preset: %q", a.lastError)
	}
	a.typedKey(escape())
	var builtin *services.BuiltinPolicyError
	if err := a.svc.SavePolicy(s.p); !errors.As(err, &builtin) {
		t.Fatalf("services saved over a preset: %v", err)
	}
	if got, _ := a.svc.PolicyByName(policy.PresetRental48h); *got.Widevine.PolicyOverrides.LicenseDurationSeconds == 3600 {
		t.Fatal("the preset was overwritten")
	}

	// An invalid value: highlighted, and nothing can be saved.
	s.wvLicense.SetText("-5")
	if err := s.wvLicense.Validate(); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Fatalf("the faulty field is not highlighted: %v", err)
	}
	s.wvRental.SetText("two days")
	if s.wvRental.Validate() == nil || !s.saveAsBtn.Disabled() {
		t.Fatalf("unparsable field: highlighted %v, save as enabled %v", s.wvRental.Validate(), !s.saveAsBtn.Disabled())
	}
	if s.wvPlayback.Validate() != nil {
		t.Error("a valid field is highlighted")
	}
	bad := *s.p
	bad.Name = "Broken"
	var invalid *services.InvalidPolicyError
	if err := a.svc.SavePolicy(&bad); !errors.As(err, &invalid) {
		t.Fatalf("services saved an invalid policy: %v", err)
	}
	s.wvLicense.SetText("3600")
	s.wvRental.SetText("3600")
	if s.wvLicense.Validate() != nil || s.saveAsBtn.Disabled() {
		t.Fatal("fixed values still blocked")
	}

	// Save as… a user policy, then Save updates it.
	s.saveAs()
	if len(a.dialogs) != 1 {
		t.Fatalf("Save as… asked nothing (%d dialogs)", len(a.dialogs))
	}
	a.typedKey(escape())
	s.name.SetText("Studio rental")
	if s.saveBtn.Disabled() {
		t.Fatalf("a new name cannot be saved: %q", s.about.Text)
	}
	test.Tap(s.saveBtn)
	got, err := a.svc.PolicyByName("Studio rental")
	if err != nil || *got.Widevine.PolicyOverrides.LicenseDurationSeconds != 3600 {
		t.Fatalf("user policy: %v", err)
	}
	if s.loaded != "Studio rental" || s.delBtn.Disabled() {
		t.Fatalf("loaded %q, delete disabled %v", s.loaded, s.delBtn.Disabled())
	}

	// A preset shadowed by an earlier version's copy is restored.
	shadow := policy.Preset(policy.PresetRental48h)
	*shadow.Widevine.PolicyOverrides.LicenseDurationSeconds = 60
	if err := a.svc.WS.Put("policies", idForPolicy(shadow.Name), shadow); err != nil {
		t.Fatal(err)
	}
	test.Tap(s.restoreBtn)
	if got, _ := a.svc.PolicyByName(policy.PresetRental48h); *got.Widevine.PolicyOverrides.LicenseDurationSeconds == 60 {
		t.Fatal("Restore built-ins left the shadowing copy")
	}
	if !strings.Contains(s.about.Text, "Restored the built-in "+policy.PresetRental48h) {
		t.Errorf("about %q", s.about.Text)
	}
}

// idForPolicy is the workspace record ID of a policy (services.idFor), to plant a copy that
// shadows a preset as an earlier version could save it.
func idForPolicy(name string) string {
	h := sha256.Sum256([]byte("policy:" + name))
	return hex.EncodeToString(h[:8])
}

func escape() *fyne.KeyEvent { return &fyne.KeyEvent{Name: fyne.KeyEscape} }
