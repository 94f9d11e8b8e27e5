package services

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"satchel/app/jobs"
	"satchel/app/publish"
	"satchel/app/store"
	"satchel/engine/drm"
	"satchel/engine/policy"
	"satchel/engine/verify"
	"satchel/packaging"
)

// Job kinds.
const (
	KindPackage = "package"
	KindPublish = "publish"
	KindVerify  = "verify"
)

// PackageRequest is a packaging job as the GUI builds it.
type PackageRequest struct {
	Inputs          []string           `json:"inputs"`
	OutDir          string             `json:"out_dir"`
	KeySet          string             `json:"key_set,omitempty"` // empty: generate and save as "<out dir name> keys"
	Policy          string             `json:"policy,omitempty"`
	Systems         []drm.System       `json:"systems"`
	Schemes         []drm.Scheme       `json:"schemes"`
	Formats         []packaging.Format `json:"formats"`
	SegmentDuration time.Duration      `json:"segment_duration"`
	ClearLead       time.Duration      `json:"clear_lead,omitempty"`
	ClearKeyLAURL   string             `json:"clearkey_la_url,omitempty"`
	PlayReadyLAURL  string             `json:"playready_la_url,omitempty"`
	FairPlayKeyURI  string             `json:"fairplay_key_uri,omitempty"`
	Overwrite       bool               `json:"overwrite,omitempty"`
	Concurrency     int                `json:"concurrency,omitempty"`
}

// StartPackage runs a packaging job; the job's result is the *packaging.Result. Progress
// events carry one item per rendition (bytes done/total, ETA).
func (s *Service) StartPackage(ctx context.Context, req PackageRequest) (*jobs.Job, error) {
	if len(req.Inputs) == 0 {
		return nil, errors.New("choose at least one rendition to package")
	}
	if req.OutDir == "" {
		return nil, errors.New("choose an output folder")
	}
	cfg := packaging.Config{Inputs: req.Inputs, OutDir: req.OutDir, Systems: req.Systems, Schemes: req.Schemes, Formats: req.Formats,
		SegmentDuration: req.SegmentDuration, ClearLead: req.ClearLead, ClearKeyLAURL: req.ClearKeyLAURL, PlayReadyLAURL: req.PlayReadyLAURL, FairPlayKeyURI: req.FairPlayKeyURI,
		Overwrite: req.Overwrite, Concurrency: req.Concurrency}
	if cfg.Concurrency == 0 {
		if st, err := s.Settings(); err == nil {
			cfg.Concurrency = st.Concurrency
		}
	}
	if req.KeySet != "" {
		keys, err := s.KeySetKeys(req.KeySet)
		if err != nil {
			return nil, err
		}
		cfg.Keys = keys
	}
	if req.Policy != "" {
		p, err := s.PolicyByName(req.Policy)
		if err != nil {
			return nil, err
		}
		if issues := policy.Validate(p, true); policy.HasErrors(issues) {
			for _, is := range issues {
				if is.Severity == "error" {
					return nil, fmt.Errorf("policy %q is not valid for offline use: %s: %s (%s)", p.Name, is.Field, is.Message, is.Fix)
				}
			}
		}
		if cfg.PolicyJSON, _ = policy.MarshalPublic(p); cfg.PolicyJSON == nil {
			return nil, errors.New("policy cannot be written")
		}
	}
	title := fmt.Sprintf("Package %d renditions → %s", len(req.Inputs), filepath.Base(req.OutDir))
	return s.Jobs.Start(ctx, KindPackage, title, req, func(ctx context.Context, report func(jobs.Event)) (any, error) {
		res, err := packaging.Package(ctx, cfg, func(p packaging.Progress) {
			report(jobs.Event{Item: p.Rendition, Done: p.Bytes, Total: p.TotalBytes, Unit: "bytes", ETA: p.ETA,
				Message: fmt.Sprintf("%d/%d fragments", p.Fragments, p.TotalFragments), Error: p.Err})
		})
		if err != nil {
			return nil, err
		}
		if req.KeySet == "" {
			name := filepath.Base(res.OutDir) + " keys " + time.Now().Format("2006-01-02 15:04:05")
			if _, err := s.SaveKeySet(name, res.Keys); err != nil {
				return nil, fmt.Errorf("save the generated keys: %w", err)
			}
			report(jobs.Event{Message: "generated keys saved as key set " + name})
		}
		return res, nil
	})
}

// PublishTarget is a saved destination; credentials are stored encrypted.
type PublishTarget struct {
	Name string `json:"name"`
	URL  string `json:"url"` // azure://CONTAINER/PREFIX or a folder
}

// SaveTarget stores a publish target and its credentials (encrypted).
func (s *Service) SaveTarget(t PublishTarget, creds publish.Credentials) error {
	if t.Name == "" {
		return errors.New("give the target a name")
	}
	if _, err := publish.ParseTarget(t.URL); err != nil {
		return err
	}
	id := idFor("target:" + t.Name)
	b, _ := json.Marshal(creds)
	if err := s.WS.PutSecret("target/"+id, b); err != nil {
		return err
	}
	return s.WS.Put(store.BucketTargets, id, t)
}

// Targets lists saved publish targets.
func (s *Service) Targets() ([]PublishTarget, error) {
	recs, err := s.WS.List(store.BucketTargets)
	if err != nil {
		return nil, err
	}
	var out []PublishTarget
	for _, r := range recs {
		var t PublishTarget
		if json.Unmarshal(r.Data, &t) == nil {
			out = append(out, t)
		}
	}
	return out, nil
}

// TargetCredentials returns a saved target's credentials.
func (s *Service) TargetCredentials(name string) (publish.Credentials, error) {
	var c publish.Credentials
	raw, err := s.WS.GetSecret("target/" + idFor("target:"+name))
	if err != nil {
		return c, fmt.Errorf("no saved credentials for target %q", name)
	}
	return c, json.Unmarshal(raw, &c)
}

// PublishRequest is a publish job.
type PublishRequest struct {
	SrcDir     string        `json:"src_dir"`
	Target     string        `json:"target"` // a saved target name, or azure://…, or a folder
	CORSOrigin string        `json:"cors_origin,omitempty"`
	SASExpiry  time.Duration `json:"sas_expiry,omitempty"`
	Verify     bool          `json:"verify,omitempty"`
}

// PublishResult is the result of a publish job.
type PublishResult struct {
	Report *publish.Report `json:"report"`
	SAS    []publish.SAS   `json:"sas,omitempty"`
	Verify *verify.Report  `json:"verify,omitempty"`
}

// StartPublish runs a publish job (result *PublishResult, recorded in publications).
func (s *Service) StartPublish(ctx context.Context, req PublishRequest) (*jobs.Job, error) {
	url := req.Target
	creds := publish.CredentialsFromEnv()
	for _, t := range mustTargets(s) {
		if t.Name == req.Target {
			url = t.URL
			c, err := s.TargetCredentials(t.Name)
			if err != nil {
				return nil, err
			}
			creds = c
		}
	}
	target, err := publish.ParseTarget(url)
	if err != nil {
		return nil, err
	}
	st, _ := s.Settings()
	var keys []drm.ContentKey
	if f, err := os.Open(filepath.Join(req.SrcDir, "keys.cpix.xml")); err == nil {
		if doc, err := drm.ReadCPIX(f); err == nil {
			keys = doc.Keys
		}
		f.Close()
	}
	return s.Jobs.Start(ctx, KindPublish, "Publish "+filepath.Base(req.SrcDir)+" → "+target.String(), req, func(ctx context.Context, report func(jobs.Event)) (any, error) {
		res := &PublishResult{}
		opts := publish.Options{SrcDir: req.SrcDir, Target: target, Creds: creds, CORSOrigin: req.CORSOrigin, Concurrency: st.Concurrency,
			Progress: func(p publish.Progress) {
				report(jobs.Event{Item: "upload", Done: p.Bytes, Total: p.TotalBytes, Unit: "bytes", Rate: p.Rate, Message: fmt.Sprintf("%d/%d files, %s", p.Files, p.TotalFiles, p.Current)})
			}}
		if req.Verify {
			opts.Verify = func(ctx context.Context, manifestURL string) error {
				if target.Kind == "azure" && len(res.SAS) == 0 {
					// A private container needs a SAS to be read back.
					sas, err := publish.SASURLs(ctx, creds, target, []string{filepath.Base(manifestURL)}, time.Hour)
					if err == nil && len(sas) > 0 {
						manifestURL = sas[0].URL
					}
				}
				rep, err := verify.Verify(ctx, verify.Input{Path: manifestURL, Keys: keys, Origin: st.PlayerOrigin})
				if err != nil {
					return err
				}
				res.Verify = rep
				return nil
			}
		}
		rep, err := publish.Publish(ctx, opts)
		res.Report = rep
		if err != nil {
			return res, err
		}
		if req.SASExpiry > 0 && target.Kind == "azure" {
			if res.SAS, err = publish.SASURLs(ctx, creds, target, rep.Published, req.SASExpiry); err != nil {
				return res, err
			}
		}
		if _, err := s.WS.Append(store.BucketPublications, map[string]any{"time": time.Now().UTC(), "src": req.SrcDir, "target": target.String(),
			"uploaded": len(rep.Uploaded), "skipped": len(rep.Skipped), "manifest": rep.Manifest}); err != nil {
			s.Log.Warn("record publication", "err", err)
		}
		return res, nil
	})
}

func mustTargets(s *Service) []PublishTarget {
	t, _ := s.Targets()
	return t
}

// Publications returns the publish history, newest first.
func (s *Service) Publications() ([]map[string]any, error) {
	recs, err := s.WS.List(store.BucketPublications)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for i := len(recs) - 1; i >= 0; i-- {
		var m map[string]any
		if json.Unmarshal(recs[i].Data, &m) == nil {
			out = append(out, m)
		}
	}
	return out, nil
}

// VerifyRequest is a verify job.
type VerifyRequest struct {
	Path       string   `json:"path"`
	KeySet     string   `json:"key_set,omitempty"`
	CPIXFile   string   `json:"cpix_file,omitempty"`
	KeySpecs   []string `json:"key_specs,omitempty"`
	Policy     string   `json:"policy,omitempty"`
	LicenseURL string   `json:"license_url,omitempty"`
	Sources    []string `json:"sources,omitempty"`
	// Full decodes every sample; AllowHosts and IncludeKeys as in verify.Input.
	Full        bool     `json:"full,omitempty"`
	AllowHosts  []string `json:"allow_hosts,omitempty"`
	IncludeKeys bool     `json:"include_keys,omitempty"`
}

// StartVerify runs the checker (result *verify.Report, saved in the reports bucket). Keys come
// from the key set, the CPIX file, explicit specs, or keys.cpix.xml beside the content.
func (s *Service) StartVerify(ctx context.Context, req VerifyRequest) (*jobs.Job, error) {
	in := verify.Input{Path: req.Path, LicenseURL: req.LicenseURL, SourceFiles: req.Sources, Full: req.Full,
		AllowHosts: req.AllowHosts, IncludeKeys: req.IncludeKeys}
	if st, err := s.Settings(); err == nil {
		in.Origin = st.PlayerOrigin
	}
	if req.KeySet != "" {
		keys, err := s.KeySetKeys(req.KeySet)
		if err != nil {
			return nil, err
		}
		in.Keys = append(in.Keys, keys...)
	}
	for _, spec := range req.KeySpecs {
		k, err := drm.ParseKeySpec(spec)
		if err != nil {
			return nil, err
		}
		in.Keys = append(in.Keys, k)
	}
	cpix := req.CPIXFile
	if cpix == "" && len(in.Keys) == 0 {
		dir := req.Path
		if st, err := os.Stat(dir); err == nil && !st.IsDir() {
			dir = filepath.Dir(dir)
		}
		for _, d := range []string{dir, filepath.Dir(dir), filepath.Dir(filepath.Dir(dir))} {
			if p := filepath.Join(d, "keys.cpix.xml"); fileExists(p) {
				cpix = p
				break
			}
		}
	}
	if cpix != "" {
		f, err := os.Open(cpix)
		if err != nil {
			return nil, err
		}
		doc, err := drm.ReadCPIX(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cpix, err)
		}
		in.Keys = append(in.Keys, doc.Keys...)
	}
	if req.Policy != "" {
		p, err := s.PolicyByName(req.Policy)
		if err != nil {
			return nil, err
		}
		in.Policy = p
	}
	return s.Jobs.Start(ctx, KindVerify, "Verify "+filepath.Base(req.Path), req, func(ctx context.Context, report func(jobs.Event)) (any, error) {
		report(jobs.Event{Item: "verify", Message: "checking " + req.Path})
		rep, err := verify.Verify(ctx, in)
		if err != nil {
			return nil, err
		}
		if _, err := s.WS.Append(store.BucketReports, rep); err != nil {
			s.Log.Warn("save report", "err", err)
		}
		return rep, nil
	})
}

// Reports returns saved verify reports, newest first.
func (s *Service) Reports() ([]verify.Report, error) {
	recs, err := s.WS.List(store.BucketReports)
	if err != nil {
		return nil, err
	}
	var out []verify.Report
	for i := len(recs) - 1; i >= 0; i-- {
		var r verify.Report
		if json.Unmarshal(recs[i].Data, &r) == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
