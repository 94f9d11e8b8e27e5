package cli

import (
	"fmt"
	"time"

	"satchel/app/jobs"
	"satchel/app/publish"
	"satchel/app/services"
	"satchel/internal/humanize"
)

func init() {
	register(&command{
		name:    "publish",
		summary: "Upload a packaged folder to Azure Blob Storage (or copy to a folder): content types, MD5, manifests last, CORS, SAS URLs.",
		usage: "satchel publish DIR --to azure://CONTAINER/PREFIX|DIR|TARGET [--connection-string S | --sas-url URL]\n" +
			"        [--cors-origin ORIGIN] [--sas-expiry 24h] [--verify] [--concurrency 8] [--block-size 4MiB] [--json]\n" +
			"        [--workspace DIR]\n" +
			"  TARGET is a target saved in the app. Credentials given here are used for this run only, never stored;\n" +
			"  otherwise the saved target's, else $AZURE_STORAGE_CONNECTION_STRING\n" +
			"  or $AZURE_STORAGE_ACCOUNT + $AZURE_STORAGE_KEY.",
		run: runPublish,
	})
}

// publishOutput is the --json document of `satchel publish`.
type publishOutput struct {
	*services.PublishResult
	Seconds float64 `json:"seconds"`
}

func runPublish(e *env, args []string) error {
	fs := newFlags(e, commands["publish"])
	to := fs.String("to", "", "destination: azure://CONTAINER/PREFIX, a local folder, or a saved target's name")
	connStr := fs.String("connection-string", "",
		"Azure Storage connection string, for this run only (default $AZURE_STORAGE_CONNECTION_STRING)")
	sasURL := fs.String("sas-url", "",
		"container SAS URL with write permission, for this run only (instead of a connection string)")
	cors := fs.String("cors-origin", "", "set a CORS rule on the blob service for this player origin (e.g. https://player.example.com or *)")
	sasExpiry := fs.Duration("sas-expiry", 0, "print read-only SAS URLs for manifests and downloads, valid this long (e.g. 24h)")
	doVerify := fs.Bool("verify", false, "after publishing, fetch the published manifest over HTTP and run the checker on it")
	concurrency := fs.Int("concurrency", 0, "parallel uploads (0 = the workspace setting, else 8)")
	blockSize := fs.Int64("block-size", 0, "block size in bytes for block uploads (0 = 4 MiB)")
	asJSON := fs.Bool("json", false, "print one JSON document; progress as JSON lines on stderr")
	wsDir := workspaceFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one packaged folder to publish")
	}
	if *connStr != "" && *sasURL != "" {
		return usagef("give --connection-string or --sas-url, not both")
	}
	req := services.PublishRequest{
		SrcDir:      pos[0],
		Target:      *to,
		CORSOrigin:  *cors,
		SASExpiry:   *sasExpiry,
		Verify:      *doVerify,
		Concurrency: *concurrency,
		BlockSize:   *blockSize,
	}
	req.Credentials = adHocCredentials(*connStr, *sasURL)
	if err := req.Validate(); err != nil {
		return err
	}
	start := time.Now()
	v, err := runOperation(e, *wsDir, *asJSON, func(svc *services.Service) (*jobs.Job, error) {
		return svc.StartPublish(e.ctx, req)
	})
	if err != nil {
		return err
	}
	out := publishOutput{PublishResult: v.(*services.PublishResult), Seconds: time.Since(start).Seconds()}
	if *asJSON {
		if err := writeJSON(e.stdout, out); err != nil {
			return err
		}
	} else if err := printPublish(e, pos[0], out); err != nil {
		return err
	}
	if out.Verify != nil && out.Verify.Failed() {
		return CheckFailed
	}
	return nil
}

// adHocCredentials returns the credentials given on the command line (nil for none): they
// travel in the request for this run only.
func adHocCredentials(connStr, sasURL string) *publish.Credentials {
	switch {
	case connStr != "":
		return &publish.Credentials{ConnectionString: connStr}
	case sasURL != "":
		return &publish.Credentials{SASURL: sasURL}
	}
	return nil
}

func printPublish(e *env, src string, out publishOutput) error {
	rep := out.Report
	fmt.Fprintf(e.stdout, "Published %s to %s: %d uploaded, %d unchanged (skipped), %s in %.1fs\n",
		src, rep.BaseURL, len(rep.Uploaded), len(rep.Skipped), humanize.Bytes(rep.Bytes), out.Seconds)
	if left := rep.Left(); left != "" {
		fmt.Fprintf(e.stdout, "Not published: %s\n", left)
	}
	if rep.CORSRule != nil {
		fmt.Fprintf(e.stdout, "CORS rule: %s\n", rep.CORSRule)
	}
	for _, s := range out.SAS {
		fmt.Fprintf(e.stdout, "SAS %s (until %s)\n  %s\n", s.Name, s.Expires.Format(time.RFC3339), s.URL)
	}
	if out.Verify != nil {
		fmt.Fprintln(e.stdout, "\nVerification of the published package:")
		return out.Verify.WriteText(e.stdout)
	}
	return nil
}
