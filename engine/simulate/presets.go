package simulate

import (
	"satchel/engine/policy"
)

// Preset is a classic offline scenario with the policy it is usually shown with.
type Preset struct {
	// Name is the short name ParseScenario accepts ("rental").
	Name string
	// Title and Description explain the case to a trainee.
	Title       string
	Description string
	// Spec is the scenario in the compact grammar.
	Spec string
	// Policy returns a fresh copy of the policy the case is about; a caller may simulate the
	// scenario under any other policy instead.
	Policy func() *policy.Policy
}

// Preset names.
const (
	PresetRental        = "rental"
	PresetPurchase      = "purchase"
	PresetStreamingOnly = "streaming-only"
	PresetExpired       = "expired-before-first-play"
	PresetClockRollback = "clock-rollback"
)

// RentalPolicyName names the classic rental policy of the rental preset.
const RentalPolicyName = "Rental: 30 days to start, 48 h to finish"

// RentalPolicy is the classic offline rental: 30 days to start watching, 48 hours once
// started, in each system's terms. Widevine: rental_duration 30 d, playback_duration 48 h and
// license_duration 0 (unlimited, set explicitly for Android 4.4). PlayReady has no "time to
// start" clock: RelativeExpirationDate P30D with FirstPlayExpiration PT48H, so a first play
// late in the 30 days leaves less than 48 h. FairPlay: DualExpiry, storage 30 d, playback
// 48 h. ClearKey (Satchel's extension) has one duration only: 32 d.
func RentalPolicy() *policy.Policy {
	const day = 24 * 3600
	i64 := func(v int64) *int64 { return &v }
	return &policy.Policy{
		Name:        RentalPolicyName,
		Description: "Classic download rental: start within 30 days, finish within 48 hours of starting.",
		Widevine: &policy.WidevinePolicy{AllowedTrackTypes: "SD_HD", PolicyOverrides: policy.WidevineOverrides{
			CanPlay:                 true,
			CanPersist:              true,
			LicenseDurationSeconds:  i64(0),
			RentalDurationSeconds:   i64(30 * day),
			PlaybackDurationSeconds: i64(2 * day),
		}},
		PlayReady: &policy.PlayReadyPolicy{
			LicenseType:            "Persistent",
			SecurityLevel:          "SL2000",
			RelativeExpirationDate: "P30D",
			ContentType:            "UltraVioletDownload",
			PlayRight: policy.PlayReadyRight{
				FirstPlayExpiration:                     "PT48H",
				AllowPassingVideoContentToUnknownOutput: "Allowed",
			},
		},
		FairPlay: &policy.FairPlayPolicy{RentalAndLeaseKeyType: "DualExpiry",
			OfflineRentalConfiguration: &policy.OfflineRentalConfig{
				StorageDurationSeconds: 30 * day, PlaybackDurationSeconds: 2 * day,
			}},
		ClearKey: &policy.ClearKeyPolicy{LicenseType: "persistent-license", DurationSeconds: 32 * day},
		Token:    policy.TokenRestriction{Type: policy.RestrictionOpen},
	}
}

// Presets returns the classic scenarios: rental, purchase, streaming only, expired before the
// first play, and a clock rolled back.
func Presets() []Preset {
	preset := func(name string) func() *policy.Policy {
		return func() *policy.Policy { return policy.Preset(name) }
	}
	return []Preset{
		{Name: PresetRental, Title: "Rental: 30 days to start, 48 h to finish",
			Description: "Download on day 1, first play on day 2 at 20:00 for two hours, play again 47 h after the " +
				"first play for two hours (the playback window closes during it), then try at 49 h.",
			Spec:   "download@0,play@day2+20h for 2h,play@+47h for 2h,play@+49h",
			Policy: RentalPolicy},
		{Name: PresetPurchase, Title: "Purchase: keep it forever",
			Description: "Download, play after an hour, a month later and a year later.",
			Spec:        "download@0,play@1h,play@day30,play@day365",
			Policy:      preset(policy.PresetPurchase)},
		{Name: PresetStreamingOnly, Title: "Streaming only: offline play refused",
			Description: "Download with a non-persistent license, then try to play offline.",
			Spec:        "download@0,play@1h,play@day1+12h",
			Policy:      preset(policy.PresetStreaming)},
		{Name: PresetExpired, Title: "Expired before the first play",
			Description: "Download on day 1 and first try to watch on day 4, after the 48 h storage window.",
			Spec:        "download@0,play@day4",
			Policy:      preset(policy.PresetRental48h)},
		{Name: PresetClockRollback, Title: "Clock set back",
			Description: "Play once, then on day 3 set the device clock two days back and play again: DRM clocks " +
				"are trusted clocks and do not move; ClearKey's duration is checked on the device clock.",
			Spec:   "download@0,play@1h,clock@day3=-2d,play@day3+2h",
			Policy: preset(policy.PresetRental48h)},
	}
}

// PresetByName returns the preset called name.
func PresetByName(name string) (Preset, bool) {
	for _, p := range Presets() {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}
