package services

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"
	"time"

	"satchel/app/jobs"
	"satchel/app/publish"
	"satchel/app/store"
	"satchel/engine/verify"
	"satchel/internal/field"
)

// PublishTarget is a saved destination; its credentials are stored encrypted, apart.
type PublishTarget struct {
	Name string `json:"name"`
	URL  string `json:"url"` // azure://CONTAINER/PREFIX or a folder
}

// SaveTarget stores a publish target and its credentials (encrypted). Only this call stores
// credentials: a publish run never does.
func (s *Service) SaveTarget(t PublishTarget, creds publish.Credentials) error {
	if strings.TrimSpace(t.Name) == "" {
		return field.Errorf("name", nil, "give the target a name")
	}
	if _, err := publish.ParseTarget(t.URL); err != nil {
		return err
	}
	id := idFor("target:" + t.Name)
	b, err := json.Marshal(creds)
	if err != nil {
		return fmt.Errorf("save target %q: %w", t.Name, err)
	}
	err = s.WS.Update(func(tx *store.Tx) error {
		if err := tx.PutSecret("target/"+id, b); err != nil {
			return err
		}
		return tx.Put(store.BucketTargets, id, t)
	})
	if err != nil {
		return fmt.Errorf("save target %q: %w", t.Name, err)
	}
	return nil
}

// Targets lists saved publish targets.
func (s *Service) Targets() ([]PublishTarget, error) {
	entries, err := list[PublishTarget](s, store.BucketTargets)
	if err != nil {
		return nil, err
	}
	out := make([]PublishTarget, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Value)
	}
	return out, nil
}

// target returns the saved target called name.
func (s *Service) target(name string) (PublishTarget, bool, error) {
	var t PublishTarget
	err := s.WS.Get(store.BucketTargets, idFor("target:"+name), &t)
	if isNotFound(err) {
		return t, false, nil
	}
	return t, err == nil, err
}

// TargetCredentials returns a saved target's credentials.
func (s *Service) TargetCredentials(name string) (publish.Credentials, error) {
	var c publish.Credentials
	raw, err := s.WS.GetSecret("target/" + idFor("target:"+name))
	if err != nil {
		if isNotFound(err) {
			return c, &NotFoundError{What: "publish target", Name: name}
		}
		return c, err
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("credentials of target %q are damaged: %w", name, err)
	}
	return c, nil
}

// PublishRequest is one publish run, as the Publish screen and `satchel publish` build it.
type PublishRequest struct {
	SrcDir string `json:"src_dir"` // a packaged folder
	// Target is a saved target's name, azure://CONTAINER/PREFIX, or a folder.
	Target string `json:"target"`
	// Credentials, when set, are used for this run only and never stored or recorded. Without
	// them a saved target's credentials are used, else the environment's
	// (publish.CredentialsFromEnv).
	Credentials *publish.Credentials `json:"-"`
	CORSOrigin  string               `json:"cors_origin,omitempty"`
	// SASExpiry > 0 makes read-only SAS URLs valid this long (Azure targets only).
	SASExpiry time.Duration `json:"sas_expiry,omitempty"`
	// Verify runs the checker on the published manifest over HTTP, with the package's keys
	// and policy (found as VerifyRequest finds them, beside SrcDir).
	Verify bool `json:"verify,omitempty"`
	// Concurrency is the number of parallel uploads; 0 takes the workspace setting (whose 0
	// means publish.DefaultConcurrency).
	Concurrency int   `json:"concurrency,omitempty"`
	BlockSize   int64 `json:"block_size,omitempty"` // 0: publish's default (4 MiB)
}

// Validate checks the request without the workspace; problems are *field.Error values.
func (r PublishRequest) Validate() error {
	if strings.TrimSpace(r.Target) == "" {
		return field.Errorf("target", nil, "no destination given")
	}
	if r.SASExpiry < 0 {
		return field.Errorf("sas_expiry", r.SASExpiry, "must not be negative")
	}
	opts := publish.Options{SrcDir: r.SrcDir, Target: publish.Target{Kind: publish.TargetDir},
		Concurrency: r.Concurrency, BlockSize: r.BlockSize}
	return opts.Validate()
}

// PublishResult is the result of a publish job.
type PublishResult struct {
	Report *publish.Report `json:"report"`
	SAS    []publish.SAS   `json:"sas_urls,omitempty"`
	Verify *verify.Report  `json:"verify,omitempty"`
}

// Publication is one publish run in the workspace's history.
type Publication struct {
	Time     time.Time `json:"time"`
	Src      string    `json:"src"`
	Target   string    `json:"target"`
	Uploaded int       `json:"uploaded"`
	Skipped  int       `json:"skipped"`
	Manifest string    `json:"manifest,omitempty"`
}

// publishPlan is a request resolved against the workspace.
type publishPlan struct {
	opts publish.Options
}

// planPublish resolves the target, its credentials and the upload settings.
func (s *Service) planPublish(req PublishRequest) (*publishPlan, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	st, err := s.Settings()
	if err != nil {
		return nil, err
	}
	url, creds := req.Target, publish.CredentialsFromEnv()
	saved, ok, err := s.target(req.Target)
	if err != nil {
		return nil, err
	}
	if ok {
		url = saved.URL
		if creds, err = s.TargetCredentials(saved.Name); err != nil {
			return nil, err
		}
	}
	if req.Credentials != nil {
		creds = *req.Credentials
	}
	target, err := publish.ParseTarget(url)
	if err != nil {
		return nil, err
	}
	if target.Kind == publish.TargetAzure && creds.Missing() {
		return nil, publish.ErrNoCredentials
	}
	if target.Kind == publish.TargetAzure && req.SASExpiry > 0 && creds.SASURL != "" {
		return nil, publish.ErrCannotSign
	}
	p := &publishPlan{opts: publish.Options{SrcDir: req.SrcDir, Target: target, Creds: creds, CORSOrigin: req.CORSOrigin,
		Concurrency: req.Concurrency, BlockSize: req.BlockSize}}
	if p.opts.Concurrency == 0 {
		p.opts.Concurrency = min(st.Concurrency, publish.MaxConcurrency)
	}
	return p, p.opts.Validate()
}

// StartPublish runs a publish job (result *PublishResult) and records it in the
// publications. Ad-hoc credentials in req are used and then forgotten.
func (s *Service) StartPublish(ctx context.Context, req PublishRequest) (*jobs.Job, error) {
	plan, err := s.planPublish(req)
	if err != nil {
		return nil, err
	}
	opts := plan.opts
	title := "Publish " + filepath.Base(req.SrcDir) + " → " + opts.Target.String()
	return s.Jobs.Start(ctx, KindPublish, title, req, func(ctx context.Context, report func(jobs.Event)) (any, error) {
		res := &PublishResult{}
		opts.Progress = func(p publish.Progress) {
			report(jobs.Event{Item: "upload", Done: p.Bytes, Total: p.TotalBytes, Unit: "bytes", Rate: p.Rate,
				Message: fmt.Sprintf("%d/%d files, %s", p.Files, p.TotalFiles, p.Current)})
		}
		if req.Verify {
			opts.Verify = func(ctx context.Context, manifestURL string) error {
				rep, err := s.verifyPublished(ctx, opts, manifestURL, report)
				res.Verify = rep
				return err
			}
		}
		rep, err := publish.Publish(ctx, opts)
		res.Report = rep
		if err != nil {
			return res, err
		}
		if req.SASExpiry > 0 && opts.Target.Kind == publish.TargetAzure {
			if res.SAS, err = publish.SASURLs(ctx, opts.Creds, opts.Target, rep.Published, req.SASExpiry); err != nil {
				return res, err
			}
		}
		pub := Publication{Time: time.Now().UTC(), Src: req.SrcDir, Target: opts.Target.String(),
			Uploaded: len(rep.Uploaded), Skipped: len(rep.Skipped), Manifest: rep.Manifest}
		if _, err := s.WS.Append(store.BucketPublications, pub); err != nil {
			s.Log.Warn("record publication", "err", err)
		}
		return res, nil
	})
}

// verifyPublished checks the published manifest with the package's keys and policy.
func (s *Service) verifyPublished(ctx context.Context, opts publish.Options, manifestURL string,
	report func(jobs.Event)) (*verify.Report, error) {
	if opts.Target.Kind == publish.TargetAzure {
		// A private container is read back through a link: a signed copy of the manifest (one
		// token per blob) with the account key, else the credential's own SAS, which is never
		// shown or stored (the saved report keeps the URL without its query).
		if opts.Creds.SASURL != "" {
			u, err := url.Parse(opts.Creds.SASURL)
			if err != nil {
				return nil, err
			}
			manifestURL += "?" + u.RawQuery
		} else {
			sas, err := publish.SASURLs(ctx, opts.Creds, opts.Target, []string{path.Base(manifestURL)}, time.Hour)
			if err != nil {
				return nil, err
			}
			if len(sas) > 0 {
				manifestURL = sas[0].URL
			}
		}
	}
	in, found, err := s.verifyInput(VerifyRequest{Path: manifestURL}, opts.SrcDir)
	if err != nil {
		return nil, err
	}
	found.report(report)
	report(jobs.Event{Message: "verifying the published package"})
	rep, err := verify.Verify(ctx, in)
	if err != nil {
		return nil, err
	}
	if i := strings.IndexByte(rep.Target, '?'); i >= 0 {
		rep.Target = rep.Target[:i] // no token in the report
	}
	s.saveReport(rep)
	return rep, nil
}

// Publications returns the publish history, newest first.
func (s *Service) Publications() ([]Publication, error) {
	entries, err := list[Publication](s, store.BucketPublications)
	if err != nil {
		return nil, err
	}
	out := make([]Publication, 0, len(entries))
	for i := len(entries) - 1; i >= 0; i-- {
		out = append(out, entries[i].Value)
	}
	return out, nil
}
