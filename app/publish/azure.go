package publish

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
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

	"satchel/engine/manifest"
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
	u := b.containerURL()
	if rel == "" && b.prefix == "" {
		return u + "/"
	}
	return u + "/" + path.Join(b.prefix, rel)
}

// containerURL is the container's URL without a query.
func (b *azureBackend) containerURL() string {
	u := b.cc.URL()
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	return strings.TrimRight(u, "/")
}

// containerName is the last path element of the container URL.
func (b *azureBackend) containerName() string { return path.Base(b.containerURL()) }

// blobURL is the URL of the blob name (a full blob name, prefix included), escaped.
func (b *azureBackend) blobURL(name string) string {
	return b.containerURL() + "/" + (&url.URL{Path: name}).EscapedPath()
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

// ErrCannotSign says read-only links were asked for with a SAS credential: links are signed
// with the account key, which a SAS does not carry (and handing out the credential's own
// token would hand out its write permission).
var ErrCannotSign = errors.New("read-only links are signed with the storage account key; " +
	"a SAS credential cannot sign them")

// sasDir is the folder, inside the target prefix, of the signed manifest copies.
const sasDir = ".sas"

// SASURLs returns read-only links, valid for expiry, for the manifests (every .mpd and every
// master*.m3u8) and the single-file downloads (files in a download/ folder) among files (paths
// relative to the package). Every token opens exactly one blob:
//   - a download's link is the blob's URL with its own token;
//   - a manifest's link opens a signed copy of the manifest, uploaded under PREFIX/.sas/, in
//     which every init segment, media segment and media playlist is an absolute URL with that
//     blob's own token (DASH SegmentTemplates become SegmentLists).
//
// So a link of one title never reads another title's blob, nor anything the manifest does not
// reference, though the titles share a container (see sign.go for why there is no directory
// SAS). The copies of earlier runs whose links have expired are deleted. Signing needs the
// account key: with a SAS credential it returns ErrCannotSign.
//
// A Smooth Streaming client manifest (.ismc) gets no link: its clients build every fragment URL
// from one Url template, so no manifest copy can give each fragment its own token, and a token
// that opens every fragment would open every title of the container. Serve Smooth titles
// publicly, through a CDN with its own token scheme, or with satchel serve.
func SASURLs(ctx context.Context, creds Credentials, target Target, files []string, expiry time.Duration) ([]SAS, error) {
	if target.Kind != TargetAzure {
		return nil, errors.New("SAS URLs exist only for Azure targets")
	}
	_, cc, cred, _, err := clients(creds, target.Container, &Options{})
	if err != nil {
		return nil, err
	}
	if cred == nil {
		return nil, ErrCannotSign
	}
	b := &azureBackend{cc: cc, prefix: target.Prefix, cred: cred}
	s, err := newSASSigner(ctx, b, time.Now().UTC().Add(expiry).Truncate(time.Second))
	if err != nil {
		return nil, err
	}
	var out []SAS
	for _, rel := range files {
		var u string
		switch {
		case isDownload(rel):
			var ok bool
			if u, ok = s.blobURL(rel); !ok {
				return nil, fmt.Errorf("SAS for %s: it is not published at %s", rel, target)
			}
		case isTopManifest(rel):
			if u, err = s.signedManifest(ctx, rel); err != nil {
				return nil, fmt.Errorf("SAS for %s: %w", rel, err)
			}
		default:
			continue
		}
		out = append(out, SAS{Name: rel, URL: u, Expires: s.expires})
	}
	return out, nil
}

func isDownload(rel string) bool {
	return rel == manifest.DirDownload || strings.HasPrefix(rel, manifest.DirDownload+"/") ||
		strings.Contains(rel, "/"+manifest.DirDownload+"/")
}

// isTopManifest: a DASH MPD, or an HLS multivariant playlist (master*.m3u8), at any depth.
func isTopManifest(rel string) bool {
	base := strings.ToLower(path.Base(rel))
	return strings.HasSuffix(base, ".mpd") || strings.HasPrefix(base, "master") && strings.HasSuffix(base, ".m3u8")
}

// sasSigner signs the blobs of one target for one expiry.
type sasSigner struct {
	b         *azureBackend
	expires   time.Time
	published map[string]bool   // package-relative names of the blobs at the target
	stamp     string            // this run's folder under sasDir
	copies    map[string]string // package file → URL of its signed copy (media playlists)
}

func newSASSigner(ctx context.Context, b *azureBackend, expires time.Time) (*sasSigner, error) {
	have, err := b.existing(ctx)
	if err != nil {
		return nil, err
	}
	s := &sasSigner{b: b, expires: expires, published: map[string]bool{}, copies: map[string]string{}}
	for rel := range have {
		if !strings.HasPrefix(rel, sasDir+"/") {
			s.published[rel] = true
		}
	}
	if err := s.removeExpired(ctx, have); err != nil {
		return nil, err
	}
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	s.stamp = fmt.Sprintf("%s/%d-%x", sasDir, expires.Unix(), rnd)
	return s, nil
}

// removeExpired deletes the signed copies whose links have expired.
func (s *sasSigner) removeExpired(ctx context.Context, have map[string][]byte) error {
	now := time.Now().Unix()
	for rel := range have {
		rest, ok := strings.CutPrefix(rel, sasDir+"/")
		if !ok {
			continue
		}
		stamp, _, _ := strings.Cut(rest, "/")
		exp, _, _ := strings.Cut(stamp, "-")
		if t, err := strconv.ParseInt(exp, 10, 64); err != nil || t > now {
			continue
		}
		_, err := s.b.cc.NewBlobClient(s.b.name(rel)).Delete(ctx, nil)
		if err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
			return classify(err, "delete expired signed copy "+rel)
		}
	}
	return nil
}

// sign returns the URL of blob name (full blob name) with a read-only token for it alone.
func (s *sasSigner) sign(name string) (string, error) {
	v := sas.BlobSignatureValues{Protocol: sas.ProtocolHTTPSandHTTP, StartTime: time.Now().UTC().Add(-5 * time.Minute),
		ExpiryTime: s.expires, Permissions: to.Ptr(sas.BlobPermissions{Read: true}).String(),
		ContainerName: s.b.containerName(), BlobName: name}
	qp, err := v.SignWithSharedKey(s.b.cred)
	if err != nil {
		return "", fmt.Errorf("sign SAS for %s: %w", name, err)
	}
	return s.b.blobURL(name) + "?" + qp.Encode(), nil
}

// blobURL is the signer for the manifests: the signed URL of a published package file (its
// signed copy for a media playlist already signed).
func (s *sasSigner) blobURL(rel string) (string, bool) {
	if u, ok := s.copies[rel]; ok {
		return u, true
	}
	if !s.published[rel] {
		return "", false
	}
	u, err := s.sign(s.b.name(rel))
	return u, err == nil
}

// signedManifest makes the signed copy of the manifest rel (and of the media playlists it
// references) and returns the copy's signed URL.
func (s *sasSigner) signedManifest(ctx context.Context, rel string) (string, error) {
	if !s.published[rel] {
		return "", fmt.Errorf("it is not published")
	}
	src, err := s.download(ctx, rel)
	if err != nil {
		return "", err
	}
	var signed []byte
	if strings.HasSuffix(strings.ToLower(rel), ".mpd") {
		signed, err = signMPD(rel, src, s.blobURL)
	} else {
		for _, child := range hlsChildren(rel, src) {
			if _, done := s.copies[child]; done || !s.published[child] {
				continue // unpublished references are reported by signHLS below
			}
			if s.copies[child], err = s.signCopy(ctx, child, signHLS); err != nil {
				return "", err
			}
		}
		signed, err = signHLS(rel, src, s.blobURL)
	}
	if err != nil {
		return "", err
	}
	return s.upload(ctx, rel, signed)
}

// signCopy signs the playlist rel with fn and uploads the copy.
func (s *sasSigner) signCopy(ctx context.Context, rel string, fn func(string, []byte, signer) ([]byte, error)) (string, error) {
	src, err := s.download(ctx, rel)
	if err != nil {
		return "", err
	}
	signed, err := fn(rel, src, s.blobURL)
	if err != nil {
		return "", err
	}
	return s.upload(ctx, rel, signed)
}

// maxManifestBytes bounds a manifest read back for signing.
const maxManifestBytes = 32 << 20

func (s *sasSigner) download(ctx context.Context, rel string) ([]byte, error) {
	resp, err := s.b.cc.NewBlobClient(s.b.name(rel)).DownloadStream(ctx, nil)
	if err != nil {
		return nil, classify(err, "read "+rel)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestBytes+1))
	if err != nil {
		return nil, classify(err, "read "+rel)
	}
	if len(b) > maxManifestBytes {
		return nil, fmt.Errorf("%s is over %d MiB; not a manifest", rel, maxManifestBytes>>20)
	}
	return b, nil
}

// upload stores the signed copy of rel under this run's folder and returns its signed URL.
func (s *sasSigner) upload(ctx context.Context, rel string, content []byte) (string, error) {
	name := s.b.name(s.stamp + "/" + rel)
	_, err := s.b.cc.NewBlockBlobClient(name).UploadBuffer(ctx, content, &blockblob.UploadBufferOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: to.Ptr(ContentType(rel)),
			BlobCacheControl: to.Ptr("private, no-cache")},
	})
	if err != nil {
		return "", classify(err, "upload the signed copy of "+rel)
	}
	return s.sign(name)
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
