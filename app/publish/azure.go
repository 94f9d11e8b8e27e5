package publish

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
)

// Credentials reach a storage account: a connection string, an account name + key (+
// endpoint), or a container SAS URL with write permission.
type Credentials struct {
	ConnectionString string `json:"connection_string,omitempty"`
	AccountName      string `json:"account_name,omitempty"`
	AccountKey       string `json:"account_key,omitempty"`
	Endpoint         string `json:"endpoint,omitempty"` // https://ACCOUNT.blob.core.windows.net by default
	SASURL           string `json:"sas_url,omitempty"`
}

// Missing reports whether c reaches no account: no connection string, no SAS URL and no
// account name with a key.
func (c Credentials) Missing() bool {
	return c.ConnectionString == "" && c.SASURL == "" && (c.AccountName == "" || c.AccountKey == "")
}

// CredentialsFromEnv reads AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT and
// AZURE_STORAGE_KEY (and AZURE_STORAGE_BLOB_ENDPOINT).
func CredentialsFromEnv() Credentials {
	if cs := os.Getenv("AZURE_STORAGE_CONNECTION_STRING"); cs != "" {
		return Credentials{ConnectionString: cs}
	}
	return Credentials{AccountName: os.Getenv("AZURE_STORAGE_ACCOUNT"), AccountKey: os.Getenv("AZURE_STORAGE_KEY"), Endpoint: os.Getenv("AZURE_STORAGE_BLOB_ENDPOINT")}
}

// azureBackend publishes to one container/prefix.
type azureBackend struct {
	svc    *service.Client // nil with a container SAS
	cc     *container.Client
	prefix string
	cred   *blob.SharedKeyCredential
	sasQ   string
}

func clientOptions(o *Options) policy.ClientOptions {
	retries, try := o.MaxRetries, o.TryTimeout
	if retries == 0 {
		retries = 3
	}
	if try == 0 {
		try = 30 * time.Second
	}
	return policy.ClientOptions{Retry: policy.RetryOptions{MaxRetries: int32(retries), TryTimeout: try, RetryDelay: 200 * time.Millisecond, MaxRetryDelay: 2 * time.Second}}
}

// clients builds the service and container clients for creds.
func clients(creds Credentials, containerName string, o *Options) (*service.Client, *container.Client, *blob.SharedKeyCredential, string, error) {
	co := clientOptions(o)
	switch {
	case creds.SASURL != "":
		u, err := url.Parse(creds.SASURL)
		if err != nil || u.RawQuery == "" {
			return nil, nil, nil, "", errors.New("the SAS URL is not a container URL with a SAS token (…/container?sv=…&sig=…)")
		}
		cc, err := container.NewClientWithNoCredential(creds.SASURL, &container.ClientOptions{ClientOptions: co})
		return nil, cc, nil, u.RawQuery, err
	case creds.ConnectionString != "":
		svc, err := service.NewClientFromConnectionString(creds.ConnectionString, &service.ClientOptions{ClientOptions: co})
		if err != nil {
			return nil, nil, nil, "", fmt.Errorf("the connection string is not valid: %w", err)
		}
		cred, _ := sharedKeyFromConnectionString(creds.ConnectionString)
		return svc, svc.NewContainerClient(containerName), cred, "", nil
	case creds.AccountName != "" && creds.AccountKey != "":
		cred, err := blob.NewSharedKeyCredential(creds.AccountName, creds.AccountKey)
		if err != nil {
			return nil, nil, nil, "", fmt.Errorf("the account key is not valid base64: %w", err)
		}
		ep := creds.Endpoint
		if ep == "" {
			ep = "https://" + creds.AccountName + ".blob.core.windows.net/"
		}
		svc, err := service.NewClientWithSharedKeyCredential(ep, cred, &service.ClientOptions{ClientOptions: co})
		if err != nil {
			return nil, nil, nil, "", err
		}
		return svc, svc.NewContainerClient(containerName), cred, "", nil
	}
	return nil, nil, nil, "", ErrNoCredentials
}

// ErrNoCredentials says an Azure target was given without storage credentials (none given,
// none saved with the target, none in the environment).
var ErrNoCredentials = errors.New("no storage credentials for the Azure target")

func sharedKeyFromConnectionString(cs string) (*blob.SharedKeyCredential, error) {
	var name, key string
	for _, part := range strings.Split(cs, ";") {
		k, v, _ := strings.Cut(part, "=")
		switch strings.ToLower(k) {
		case "accountname":
			name = v
		case "accountkey":
			key = part[len(k)+1:]
		}
	}
	if name == "" || key == "" {
		return nil, errors.New("no account key in the connection string")
	}
	return blob.NewSharedKeyCredential(name, key)
}

func newAzure(ctx context.Context, o Options) (*azureBackend, error) {
	svc, cc, cred, q, err := clients(o.Creds, o.Target.Container, &o)
	if err != nil {
		return nil, err
	}
	b := &azureBackend{svc: svc, cc: cc, prefix: o.Target.Prefix, cred: cred, sasQ: q}
	if svc != nil {
		if _, err := cc.Create(ctx, nil); err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
			return nil, classify(err, "create container "+o.Target.Container)
		}
	}
	return b, nil
}

func (b *azureBackend) name(rel string) string {
	if b.prefix == "" {
		return rel
	}
	return b.prefix + "/" + rel
}

func (b *azureBackend) existing(ctx context.Context) (map[string][]byte, error) {
	out := map[string][]byte{}
	prefix := ""
	if b.prefix != "" {
		prefix = b.prefix + "/"
	}
	pager := b.cc.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &prefix})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, classify(err, "list blobs")
		}
		for _, it := range page.Segment.BlobItems {
			if it.Name == nil || it.Properties == nil {
				continue
			}
			out[strings.TrimPrefix(*it.Name, prefix)] = it.Properties.ContentMD5
		}
	}
	return out, nil
}

func (b *azureBackend) put(ctx context.Context, f file, o *Options, progress func(int64)) error {
	fh, err := os.Open(f.abs)
	if err != nil {
		return err
	}
	defer fh.Close()
	cache := o.CacheControlMedia
	if f.manifest {
		cache = o.CacheControlManifest
	}
	bb := b.cc.NewBlockBlobClient(b.name(f.rel))
	_, err = bb.UploadFile(ctx, fh, &blockblob.UploadFileOptions{
		BlockSize:   o.BlockSize,
		Concurrency: 4,
		Progress:    progress,
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: to.Ptr(ContentType(f.rel)), BlobCacheControl: to.Ptr(cache), BlobContentMD5: f.md5},
	})
	if err != nil {
		return classify(err, "upload")
	}
	props, err := bb.GetProperties(ctx, nil)
	if err != nil {
		return classify(err, "check upload")
	}
	if string(props.ContentMD5) != string(f.md5) {
		return fmt.Errorf("the stored Content-MD5 does not match the local file; the upload was corrupted, publish again")
	}
	return nil
}

func (b *azureBackend) url(rel string) string {
	u := b.cc.URL()
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	u = strings.TrimRight(u, "/")
	if rel == "" && b.prefix == "" {
		return u + "/"
	}
	return u + "/" + path.Join(b.prefix, rel)
}

func (b *azureBackend) cors(ctx context.Context, origin string) (*CORSRule, error) {
	if b.svc == nil {
		return nil, errors.New("a container SAS cannot change the account's CORS rules; use a connection string or account key, or set CORS in the portal")
	}
	rule := &service.CORSRule{AllowedOrigins: to.Ptr(origin), AllowedMethods: to.Ptr("GET,HEAD,OPTIONS"), AllowedHeaders: to.Ptr("*"),
		ExposedHeaders: to.Ptr("Content-Length,Content-Range,Accept-Ranges,Content-Type,ETag"), MaxAgeInSeconds: to.Ptr(int32(3600))}
	if _, err := b.svc.SetProperties(ctx, &service.SetPropertiesOptions{CORS: []*service.CORSRule{rule}}); err != nil {
		return nil, classify(err, "set CORS rule")
	}
	return GetCORS(ctx, b.svc)
}

// GetCORS returns the first CORS rule of the blob service (nil when none).
func GetCORS(ctx context.Context, svc *service.Client) (*CORSRule, error) {
	p, err := svc.GetProperties(ctx, nil)
	if err != nil {
		return nil, classify(err, "read CORS rules")
	}
	if len(p.CORS) == 0 {
		return nil, nil
	}
	r := p.CORS[0]
	return &CORSRule{AllowedOrigins: deref(r.AllowedOrigins), AllowedMethods: deref(r.AllowedMethods), ExposedHeaders: deref(r.ExposedHeaders), MaxAgeSeconds: derefInt(r.MaxAgeInSeconds)}, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefInt(v *int32) int32 {
	if v == nil {
		return 0
	}
	return *v
}

// SAS is a read-only link to one published file.
type SAS struct {
	Name    string    `json:"name"`
	URL     string    `json:"url"`
	Expires time.Time `json:"expires"`
}

// SASURLs returns read-only SAS URLs, valid for expiry, for the top-level manifests, the Smooth
// client manifests (.ismc, in cenc/) and the single-file downloads among files (paths relative to the package). A download's token opens
// that blob only; a manifest's token is a read-only container SAS, because the segments it
// references need the token too (append it to segment requests, or serve the container
// publicly or through a CDN for players that do not carry query strings over).
func SASURLs(ctx context.Context, creds Credentials, target Target, files []string, expiry time.Duration) ([]SAS, error) {
	if target.Kind != TargetAzure {
		return nil, errors.New("SAS URLs exist only for Azure targets")
	}
	_, cc, cred, q, err := clients(creds, target.Container, &Options{})
	if err != nil {
		return nil, err
	}
	b := &azureBackend{cc: cc, prefix: target.Prefix, cred: cred, sasQ: q}
	exp := time.Now().UTC().Add(expiry).Truncate(time.Second)
	var out []SAS
	for _, rel := range files {
		top := !strings.Contains(rel, "/") || strings.HasSuffix(rel, ".ismc") // the Smooth manifest sits in cenc/
		if !(isManifest(rel) && top) && !strings.HasPrefix(rel, "download/") {
			continue // top-level manifests, Smooth manifests and single-file downloads
		}
		var u string
		if cred != nil {
			v := sas.BlobSignatureValues{Protocol: sas.ProtocolHTTPSandHTTP, StartTime: time.Now().UTC().Add(-5 * time.Minute), ExpiryTime: exp,
				Permissions: to.Ptr(sas.BlobPermissions{Read: true}).String(), ContainerName: target.Container, BlobName: b.name(rel)}
			if isManifest(rel) {
				// A manifest is useless without its segments: sign the container (read only) so
				// the same token also opens every segment the manifest references.
				v.BlobName = ""
				v.Permissions = to.Ptr(sas.ContainerPermissions{Read: true}).String()
			}
			qp, err := v.SignWithSharedKey(cred)
			if err != nil {
				return nil, fmt.Errorf("sign SAS for %s: %w", rel, err)
			}
			u = b.url(rel) + "?" + qp.Encode()
		} else {
			// With a container SAS the existing token is reused (its own expiry applies).
			u = b.url(rel) + "?" + q
		}
		out = append(out, SAS{Name: rel, URL: u, Expires: exp})
	}
	return out, nil
}

// classify turns storage errors into messages a user can act on.
func classify(err error, what string) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		switch {
		case re.ErrorCode == string(bloberror.AuthenticationFailed) || re.StatusCode == http.StatusUnauthorized || strings.Contains(err.Error(), "failed to authenticate"):
			return fmt.Errorf("%s: the storage key or SAS is wrong or expired (%s); check the credentials", what, re.ErrorCode)
		case re.ErrorCode == string(bloberror.AuthorizationPermissionMismatch) || re.ErrorCode == string(bloberror.AuthorizationFailure) || re.StatusCode == http.StatusForbidden:
			return fmt.Errorf("%s: the credentials lack permission on the container (%s); grant write (and create) permission or use an account key", what, re.ErrorCode)
		case re.StatusCode == http.StatusServiceUnavailable || re.ErrorCode == string(bloberror.ServerBusy):
			return fmt.Errorf("%s: the storage account is throttling requests (%s); "+
				"lower the upload concurrency and publish again", what, re.ErrorCode)
		case re.ErrorCode == string(bloberror.ContainerNotFound):
			return fmt.Errorf("%s: the container does not exist and these credentials cannot create it; create it or use an account key", what)
		}
		return fmt.Errorf("%s: storage answered %d %s", what, re.StatusCode, re.ErrorCode)
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) || strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "no such host") {
		return fmt.Errorf("%s: cannot reach the storage endpoint (%v); check the network and the endpoint", what, err)
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}
