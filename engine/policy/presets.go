package policy

// Preset names.
const (
	PresetRental48h = "Offline rental 48 h"
	PresetPurchase  = "Offline purchase (persist, no limit)"
	PresetStreaming = "Streaming only"
	PresetTrainer   = "Trainer demo (ClearKey)"
)

// Presets returns the built-in policies; each validates without errors for its use.
func Presets() []*Policy {
	const h48 = 48 * 3600
	rental := &Policy{Name: PresetRental48h, Description: "Download now, watch within 48 h on Android, Windows and iOS.",
		Widevine: &WidevinePolicy{AllowedTrackTypes: "SD_HD", PolicyOverrides: WidevineOverrides{CanPlay: true, CanPersist: true,
			LicenseDurationSeconds: i64(h48), RentalDurationSeconds: i64(h48), PlaybackDurationSeconds: i64(h48)}},
		PlayReady: &PlayReadyPolicy{LicenseType: "Persistent", SecurityLevel: "SL2000", RelativeExpirationDate: "PT48H", ContentType: "UltraVioletDownload",
			PlayRight: PlayReadyRight{AllowPassingVideoContentToUnknownOutput: "NotAllowed", CompressedDigitalVideoOpl: 400, UncompressedDigitalVideoOpl: 100, AnalogVideoOpl: 100}},
		FairPlay: &FairPlayPolicy{RentalAndLeaseKeyType: "DualExpiry", OfflineRentalConfiguration: &OfflineRentalConfig{StorageDurationSeconds: h48, PlaybackDurationSeconds: h48}},
		ClearKey: &ClearKeyPolicy{LicenseType: "persistent-license", DurationSeconds: h48},
		Token:    TokenRestriction{Type: RestrictionOpen}}
	purchase := &Policy{Name: PresetPurchase, Description: "Bought content: the license is stored with no time limit.",
		Widevine: &WidevinePolicy{AllowedTrackTypes: "SD_HD", PolicyOverrides: WidevineOverrides{CanPlay: true, CanPersist: true,
			LicenseDurationSeconds: i64(0), RentalDurationSeconds: i64(0), PlaybackDurationSeconds: i64(0)}},
		PlayReady: &PlayReadyPolicy{LicenseType: "Persistent", SecurityLevel: "SL2000", ContentType: "UltraVioletDownload",
			PlayRight: PlayReadyRight{AllowPassingVideoContentToUnknownOutput: "Allowed"}},
		FairPlay: &FairPlayPolicy{RentalAndLeaseKeyType: "PersistentUnlimited"},
		ClearKey: &ClearKeyPolicy{LicenseType: "persistent-license"},
		Token:    TokenRestriction{Type: RestrictionOpen}}
	streaming := &Policy{Name: PresetStreaming, Description: "Online playback only: licenses are not stored.",
		Widevine: &WidevinePolicy{AllowedTrackTypes: "SD_HD", PolicyOverrides: WidevineOverrides{CanPlay: true,
			LicenseDurationSeconds: i64(0), RentalDurationSeconds: i64(0), PlaybackDurationSeconds: i64(0)}},
		PlayReady: &PlayReadyPolicy{LicenseType: "NonPersistent", SecurityLevel: "SL2000", ContentType: "UltraVioletStreaming",
			PlayRight: PlayReadyRight{AllowPassingVideoContentToUnknownOutput: "Allowed"}},
		FairPlay: &FairPlayPolicy{RentalAndLeaseKeyType: "Undefined"},
		ClearKey: &ClearKeyPolicy{LicenseType: "temporary"},
		Token:    TokenRestriction{Type: RestrictionOpen}}
	trainer := &Policy{Name: PresetTrainer, Description: "Browser demo with the embedded ClearKey server; persistent so the offline flow can be shown.",
		ClearKey: &ClearKeyPolicy{LicenseType: "persistent-license", DurationSeconds: 24 * 3600},
		Token:    TokenRestriction{Type: RestrictionOpen}}
	return []*Policy{rental, purchase, streaming, trainer}
}

// Preset returns the preset with the given name, or nil.
func Preset(name string) *Policy {
	for _, p := range Presets() {
		if p.Name == name {
			return p
		}
	}
	return nil
}
