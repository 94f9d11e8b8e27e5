package services

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"satchel/app/jobs"
	"satchel/app/publish"
	"satchel/engine/verify"
)

// Job returns the persisted record of the job id.
func (s *Service) Job(id string) (jobs.Record, error) {
	recs, err := s.JobHistory("")
	if err != nil {
		return jobs.Record{}, err
	}
	for _, r := range recs {
		if r.ID == id {
			return r, nil
		}
	}
	return jobs.Record{}, &NotFoundError{What: "job", Name: id}
}

// RerunError says a job of this kind cannot be run again from its record.
type RerunError struct{ Kind jobs.Kind }

func (e *RerunError) Error() string { return fmt.Sprintf("a %s job cannot be run again", e.Kind) }

// Rerun starts the job id again with the settings it was started with (its record's
// config). Secrets never recorded (typed credentials, explicit keys, tokens) are not in the
// config: a publish uses the saved target's or the environment's credentials. A package job
// whose output folder exists (it succeeded) writes to the next free folder beside it
// ("<out>-2", "-3"…) instead of failing.
func (s *Service) Rerun(ctx context.Context, id string) (*jobs.Job, error) {
	rec, err := s.Job(id)
	if err != nil {
		return nil, err
	}
	switch rec.Kind {
	case KindPackage:
		var req PackageRequest
		if err := json.Unmarshal(rec.Config, &req); err != nil {
			return nil, fmt.Errorf("rerun %s: read its settings: %w", id, err)
		}
		if _, err := os.Stat(req.OutDir); err == nil && !req.Overwrite {
			req.OutDir = freeSibling(req.OutDir)
		}
		return s.StartPackage(ctx, req)
	case KindPublish:
		var req PublishRequest
		if err := json.Unmarshal(rec.Config, &req); err != nil {
			return nil, fmt.Errorf("rerun %s: read its settings: %w", id, err)
		}
		return s.StartPublish(ctx, req)
	case KindVerify:
		var req VerifyRequest
		if err := json.Unmarshal(rec.Config, &req); err != nil {
			return nil, fmt.Errorf("rerun %s: read its settings: %w", id, err)
		}
		return s.StartVerify(ctx, req)
	}
	return nil, &RerunError{Kind: rec.Kind}
}

// freeSibling returns dir with the first suffix -2, -3… that names nothing yet.
func freeSibling(dir string) string {
	for i := 2; ; i++ {
		p := dir + "-" + strconv.Itoa(i)
		if _, err := os.Stat(p); os.IsNotExist(err) {
			return p
		}
	}
}

// JobOutput returns what a finished job made or checked, for "reveal": a package's output
// folder, a publish's destination folder (its source package for Azure), a verification's
// target. "" when there is nothing local to show.
func JobOutput(rec jobs.Record) string {
	var out string
	switch rec.Kind {
	case KindPackage:
		var res struct {
			OutDir string `json:"out_dir"`
		}
		if json.Unmarshal(rec.Result, &res) == nil && res.OutDir != "" {
			return res.OutDir
		}
		var req PackageRequest
		if json.Unmarshal(rec.Config, &req) == nil {
			out = req.OutDir
		}
	case KindPublish:
		var req PublishRequest
		if json.Unmarshal(rec.Config, &req) == nil {
			out = req.SrcDir
			if t, err := publish.ParseTarget(req.Target); err == nil && t.Kind == publish.TargetDir {
				out = t.Dir
			}
		}
	case KindVerify:
		var req VerifyRequest
		if json.Unmarshal(rec.Config, &req) == nil && !isURL(req.Path) {
			out = req.Path
		}
	}
	if _, err := os.Stat(out); err != nil {
		return ""
	}
	return out
}

// JobReport returns the verification report a finished job holds: a verify job's, or the
// check of a published package; nil when it has none.
func JobReport(rec jobs.Record) *verify.Report {
	if rec.State != jobs.Done || len(rec.Result) == 0 {
		return nil
	}
	var res map[string]json.RawMessage
	if json.Unmarshal(rec.Result, &res) != nil {
		return nil
	}
	key := map[jobs.Kind]string{KindVerify: "report", KindPublish: "verify"}[rec.Kind]
	if key == "" || len(res[key]) == 0 || string(res[key]) == "null" {
		return nil
	}
	var rep verify.Report
	if json.Unmarshal(res[key], &rep) != nil {
		return nil
	}
	return &rep
}
