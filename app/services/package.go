package services

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"satchel/app/jobs"
	"satchel/app/store"
	"satchel/engine/drm"
	"satchel/engine/encode"
	"satchel/engine/policy"
	"satchel/internal/field"
	"satchel/packaging"
)

// MaxConcurrency is the most renditions packaged in parallel (the settings' limit).
const MaxConcurrency = store.MaxConcurrency

// PackageRequest is one packaging job, as the Package screen and `satchel package` build it.
// Start from DefaultPackageRequest: Systems, Schemes and Formats must not be empty.
type PackageRequest struct {
	Inputs []string `json:"inputs"`  // source renditions (MP4), one video rung each
	OutDir string   `json:"out_dir"` // written atomically
	// Keys are explicit content keys by track type. They are never recorded in the job
	// history. Keys from KeySet and CPIXFile are added; track types no source covers get
	// keys from crypto/rand, which are then saved as a new key set.
	Keys     []drm.ContentKey `json:"-"`
	KeySet   string           `json:"key_set,omitempty"`   // a key set in the workspace
	CPIXFile string           `json:"cpix_file,omitempty"` // a CPIX document holding keys
	// Policy names a policy in the workspace or a preset; PolicyFile is a Satchel or AMS
	// policy JSON file. At most one is given. The policy must be valid for offline use; its
	// warnings are part of the result, and it is written to policy.json (secrets redacted).
	Policy           string             `json:"policy,omitempty"`
	PolicyFile       string             `json:"policy_file,omitempty"`
	Systems          []drm.System       `json:"systems"`
	Schemes          []drm.Scheme       `json:"schemes"`
	Formats          []packaging.Format `json:"formats"`
	SegmentDuration  time.Duration      `json:"segment_duration"`
	ClearLead        time.Duration      `json:"clear_lead,omitempty"`
	ClearKeyLAURL    string             `json:"clearkey_la_url,omitempty"`
	PlayReadyLAURL   string             `json:"playready_la_url,omitempty"`
	FairPlayKeyURI   string             `json:"fairplay_key_uri,omitempty"`
	WidevineProvider string             `json:"widevine_provider,omitempty"`
	Overwrite        bool               `json:"overwrite,omitempty"`
	// Audio and Subtitles are separate files packaged beside the inputs' own tracks, with
	// their language, name and role; SkipUnsupported leaves out tracks that cannot be
	// carried (with a warning in the result) instead of failing the job.
	Audio           []packaging.AudioInput    `json:"audio,omitempty"`
	Subtitles       []packaging.SubtitleInput `json:"subtitles,omitempty"`
	SkipUnsupported bool                      `json:"skip_unsupported,omitempty"`
	// Concurrency is the number of renditions packaged in parallel; 0 takes the workspace
	// setting (whose 0 means one per CPU).
	Concurrency int `json:"concurrency,omitempty"`
	// OneKey generates one key for every track (drm.TrackAll) instead of one per track type,
	// for the track types no given key covers. A given ALL key (Keys) does the same with
	// that key.
	OneKey bool `json:"one_key,omitempty"`
	// ContentID names the title: the CPIX contentId and the Widevine PSSH content_id
	// (default: the output folder name).
	ContentID string `json:"content_id,omitempty"`
	// PerTrackInitData makes each track's init data name only its own key; by default every
	// PSSH lists every key ID, so one license request returns every key
	// (packaging.Config.PerTrackInitData explains the trade).
	PerTrackInitData bool `json:"per_track_init_data,omitempty"`
	// PIFF makes the single-file downloads PIFF 1.1 compatible (PlayReady's Smooth/AMS offline
	// file).
	PIFF bool `json:"piff,omitempty"`
	// Smooth adds a Smooth Streaming client manifest (cenc/manifest.ismc) over the cenc
	// renditions' segments, which are written once under Smooth fragment names and shared with
	// the MPD and HLS playlists (packaging.Config.Smooth: cenc, PlayReady, one key).
	Smooth bool `json:"smooth,omitempty"`
	// NoTrickPlay leaves out the HLS I-frame playlists and the DASH trick-mode tracks.
	NoTrickPlay bool `json:"no_trick_play,omitempty"`
	// Encode, when set, makes this one encode-then-package job: the ladder is encoded from
	// Encode.Master first (Inputs stay empty), then its rungs are packaged, cut at the exact
	// segment duration the encode produced. SegmentDuration sets the encode's GOP length
	// (Encode.SegmentDuration may be 0 or the same); Encode.OutDir defaults to
	// RenditionsDir(OutDir).
	Encode *EncodeRequest `json:"encode,omitempty"`
}

// DefaultPackageRequest returns Satchel's defaults: every DRM system, both schemes (cenc and
// cbcs), every output format, 4 s segments and the skd://satchel FairPlay base. The CLI's
// flag defaults and the Package screen's initial choices both come from here.
func DefaultPackageRequest() PackageRequest {
	return PackageRequest{
		Systems:         append([]drm.System(nil), drm.AllSystems...),
		Schemes:         append([]drm.Scheme(nil), drm.WrittenSchemes...),
		Formats:         append([]packaging.Format(nil), packaging.AllFormats...),
		SegmentDuration: 4 * time.Second,
		FairPlayKeyURI:  drm.DefaultFairPlayBase,
	}
}

// Validate checks the request without the workspace; problems are *field.Error values
// naming the request's JSON field. Rules of the packaging configuration itself are checked
// by packaging.Config.Validate, once.
func (r PackageRequest) Validate() error {
	switch {
	case len(r.Systems) == 0:
		return field.Errorf("systems", nil, "choose at least one DRM system")
	case len(r.Schemes) == 0:
		return field.Errorf("schemes", nil, "choose at least one encryption scheme")
	case len(r.Formats) == 0:
		return field.Errorf("formats", nil, "choose at least one output format")
	case r.Policy != "" && r.PolicyFile != "":
		return field.Errorf("policy", r.Policy, "give a policy name or a policy file, not both")
	case r.Concurrency < 0 || r.Concurrency > MaxConcurrency:
		return field.Errorf("concurrency", r.Concurrency, "must be 0 (the workspace setting) to %d", MaxConcurrency)
	}
	cfg := r.config()
	if r.Encode != nil {
		if err := r.validateEncode(); err != nil {
			return err
		}
		cfg.Inputs = []string{r.Encode.Master} // stands in for the rungs the encode will make
	}
	return cfg.Validate()
}

// validateEncode checks the encode part of an encode-then-package request.
func (r PackageRequest) validateEncode() error {
	if len(r.Inputs) > 0 {
		return field.Errorf("inputs", nil, "give source renditions or a master to encode, not both")
	}
	if e := r.Encode.SegmentDuration; e != 0 && e != r.SegmentDuration {
		return field.Errorf("segment_duration", r.SegmentDuration,
			"the encode asks for %s segments: encode and package with one segment duration", e)
	}
	return encodeField(r.encodeRequest().Validate())
}

// encodeRequest is the encode part with the package's defaults filled in.
func (r PackageRequest) encodeRequest() EncodeRequest {
	e := *r.Encode
	e.SegmentDuration = r.SegmentDuration
	if e.OutDir == "" && r.OutDir != "" {
		e.OutDir = RenditionsDir(r.OutDir)
	}
	return e
}

// config maps the request onto the packaging configuration (explicit keys only).
func (r PackageRequest) config() packaging.Config {
	return packaging.Config{
		Inputs:           r.Inputs,
		OutDir:           r.OutDir,
		Systems:          r.Systems,
		Schemes:          r.Schemes,
		Formats:          r.Formats,
		SegmentDuration:  r.SegmentDuration,
		ClearLead:        r.ClearLead,
		Keys:             append([]drm.ContentKey(nil), r.Keys...),
		PlayReadyLAURL:   r.PlayReadyLAURL,
		ClearKeyLAURL:    r.ClearKeyLAURL,
		WidevineProvider: r.WidevineProvider,
		FairPlayKeyURI:   r.FairPlayKeyURI,
		Concurrency:      r.Concurrency,
		Overwrite:        r.Overwrite,
		Audio:            r.Audio,
		Subtitles:        r.Subtitles,
		SkipUnsupported:  r.SkipUnsupported,
		ContentID:        r.ContentID,
		PerTrackInitData: r.PerTrackInitData,
		PIFF:             r.PIFF,
		Smooth:           r.Smooth,
		NoTrickPlay:      r.NoTrickPlay,
	}
}

// PackageResult is the result of a package job.
type PackageResult struct {
	*packaging.Result
	// KeySet names the key set the generated keys were saved as ("" when every key was given).
	KeySet string `json:"key_set,omitempty"`
	// PolicyWarnings are the policy's validation warnings (errors stop the job before it
	// starts); the packaging warnings and notes are in Result.
	PolicyWarnings []policy.Issue `json:"policy_warnings,omitempty"`
	// PolicyFrom says where the policy came from (a file path or a workspace policy name).
	PolicyFrom string `json:"policy_from,omitempty"`
	// Encode is the encode's result when the job encoded the ladder from a master first.
	Encode *EncodeResult `json:"encode,omitempty"`
}

// PolicyError says a policy cannot be used for offline packaging; Issues holds its errors.
type PolicyError struct {
	Name   string
	Issues []policy.Issue
}

func (e *PolicyError) Error() string {
	msgs := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		msgs[i] = is.String()
	}
	return fmt.Sprintf("policy %q is not valid for offline use: %s", e.Name, strings.Join(msgs, "; "))
}

// packagePlan is a request resolved against the workspace.
type packagePlan struct {
	cfg        packaging.Config
	given      []drm.ContentKey // keys from the request, key set and CPIX (the rest are generated)
	warnings   []policy.Issue
	policyFrom string
	encode     *encode.Plan // the encode to run first, for a package from a master (set by StartPackage)
}

// planPackage resolves keys, policy and concurrency, and checks the final configuration.
func (s *Service) planPackage(req PackageRequest) (*packagePlan, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	p := &packagePlan{cfg: req.config()}
	if p.cfg.Concurrency == 0 {
		st, err := s.Settings()
		if err != nil {
			return nil, err
		}
		p.cfg.Concurrency = st.Concurrency
	}
	if req.KeySet != "" {
		keys, err := s.KeySetKeys(req.KeySet)
		if err != nil {
			return nil, err
		}
		p.cfg.Keys = append(p.cfg.Keys, keys...)
	}
	if req.CPIXFile != "" {
		doc, err := drm.ReadCPIXFile(req.CPIXFile)
		if err != nil {
			return nil, err
		}
		p.cfg.Keys = append(p.cfg.Keys, doc.Keys...)
	}
	p.given = append([]drm.ContentKey(nil), p.cfg.Keys...)
	if _, ok := drm.KeyFor(p.cfg.Keys, drm.TrackAll); req.OneKey && !ok {
		k, err := drm.RandomContentKey(drm.TrackAll)
		if err != nil {
			return nil, err
		}
		p.cfg.Keys = append(p.cfg.Keys, k)
	}
	pol, from, err := s.loadPolicy(req.Policy, req.PolicyFile)
	if err != nil {
		return nil, err
	}
	if pol != nil {
		var errs []policy.Issue
		for _, is := range policy.Validate(pol, true) {
			if is.Severity == policy.SeverityError {
				errs = append(errs, is)
			} else {
				p.warnings = append(p.warnings, is)
			}
		}
		if len(errs) > 0 {
			return nil, &PolicyError{Name: pol.Name, Issues: errs}
		}
		if p.cfg.PolicyJSON, err = policy.MarshalPublic(pol); err != nil {
			return nil, fmt.Errorf("write policy %q: %w", pol.Name, err)
		}
		p.policyFrom = from
	}
	if req.Encode == nil {
		if err := p.cfg.Validate(); err != nil {
			return nil, err
		}
		return p, nil
	}
	// A full output folder must fail now, not after minutes of encoding.
	if err := packaging.CheckOutDir(req.OutDir, req.Overwrite); err != nil {
		return nil, err
	}
	return p, nil
}

// StartPackage runs a packaging job (result *PackageResult). Progress events carry one item
// per rendition (bytes done/total, ETA); policy warnings and the saved key set are job log
// messages too. Generated keys are saved as a key set named "<out dir> keys <time>". With
// req.Encode the job encodes the ladder first (see StartEncode: its progress, its commands
// in the log, its rungs becoming the selected assets) and packages the rungs; cancelling it
// during the encode kills the encoders, and the package folder is never created.
func (s *Service) StartPackage(ctx context.Context, req PackageRequest) (*jobs.Job, error) {
	plan, err := s.planPackage(req)
	if err != nil {
		return nil, err
	}
	if req.Encode != nil {
		if plan.encode, err = PlanEncode(ctx, req.encodeRequest()); err != nil {
			return nil, encodeField(err)
		}
	}
	title := fmt.Sprintf("Package %d renditions → %s", len(req.Inputs), filepath.Base(req.OutDir))
	if plan.encode != nil {
		title = fmt.Sprintf("Encode %s (%d rungs) and package → %s", filepath.Base(req.Encode.Master),
			len(plan.encode.Ladder.Rungs), filepath.Base(req.OutDir))
	}
	return s.Jobs.Start(ctx, KindPackage, title, req, func(ctx context.Context, report func(jobs.Event)) (any, error) {
		var enc *EncodeResult
		if plan.encode != nil {
			var err error
			if enc, err = s.runEncode(ctx, plan.encode, report); err != nil {
				return nil, err
			}
			plan.cfg.Inputs, plan.cfg.SegmentDuration = enc.Paths(), enc.SegmentDuration
			report(jobs.Event{Message: fmt.Sprintf("packaging the %d rungs with %s segments", len(enc.Rungs),
				enc.SegmentDuration)})
		}
		out, err := s.runPackage(ctx, plan, report)
		if out != nil {
			out.Encode = enc
		}
		return out, err
	})
}

// runPackage packages inside a job and saves generated keys.
func (s *Service) runPackage(ctx context.Context, plan *packagePlan, report func(jobs.Event)) (*PackageResult, error) {
	if plan.policyFrom != "" {
		report(jobs.Event{Message: "policy from " + plan.policyFrom})
	}
	for _, w := range plan.warnings {
		report(jobs.Event{Message: "policy warning: " + w.String()})
	}
	release := limitMemory()
	defer release()
	res, err := packaging.Package(ctx, plan.cfg, func(p packaging.Progress) {
		report(jobs.Event{Item: p.Rendition, Done: p.Bytes, Total: p.TotalBytes, Unit: "bytes", ETA: p.ETA,
			Message: fmt.Sprintf("%d/%d fragments", p.Fragments, p.TotalFragments), Error: p.Err})
	})
	if err != nil {
		return nil, err
	}
	out := &PackageResult{Result: res, PolicyWarnings: plan.warnings, PolicyFrom: plan.policyFrom}
	if gen := generatedKeys(res.Keys, plan.given); len(gen) > 0 {
		out.KeySet = filepath.Base(res.OutDir) + " keys " + time.Now().Format("2006-01-02 15:04:05")
		if _, err := s.SaveKeySet(out.KeySet, gen); err != nil {
			return nil, fmt.Errorf("save the generated keys: %w", err)
		}
		report(jobs.Event{Message: "generated keys saved as key set " + out.KeySet})
	}
	return out, nil
}

// generatedKeys returns the keys of used that were not given.
func generatedKeys(used, given []drm.ContentKey) []drm.ContentKey {
	var out []drm.ContentKey
	for _, k := range used {
		if _, ok := drm.KeyByKID(given, k.KID); !ok {
			out = append(out, k)
		}
	}
	return out
}

// loadPolicy returns the policy named name (workspace or preset) or read from file, and
// where it came from; nil when neither is given.
func (s *Service) loadPolicy(name, file string) (*policy.Policy, string, error) {
	switch {
	case name != "":
		p, err := s.PolicyByName(name)
		return p, name, err
	case file != "":
		p, err := ReadPolicyFile(file)
		return p, file, err
	}
	return nil, "", nil
}
