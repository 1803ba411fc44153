package evidence

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// OpenDataset returns the training set at uri (a local directory or
// s3://bucket/prefix) as an fs.FS, so the trainer reads either the same
// way. For s3:// every Open is a GetObject (or a listing, for
// directories) made with ctx, which must outlive the use of the FS.
func OpenDataset(ctx context.Context, uri string, opts ...Option) (fs.FS, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if strings.HasPrefix(uri, "s3://") {
		bucket, prefix, err := ParseS3URI(uri)
		if err != nil {
			return nil, err
		}
		client, err := newS3Client(ctx, o.s3)
		if err != nil {
			return nil, err
		}
		if prefix != "" {
			prefix += "/"
		}
		return &s3FS{ctx: ctx, client: client, bucket: bucket, prefix: prefix}, nil
	}
	if strings.Contains(uri, "://") {
		return nil, fmt.Errorf("evidence: dataset %q: only a directory or s3://bucket/prefix", uri)
	}
	fi, err := os.Stat(uri)
	if err != nil {
		return nil, fmt.Errorf("evidence: dataset: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("evidence: dataset %s is not a directory", uri)
	}
	return os.DirFS(uri), nil
}

// s3FS is a read-only fs.FS over one bucket prefix. S3 has no
// directories; a name is a directory when some key continues it with '/'.
type s3FS struct {
	ctx    context.Context
	client *s3.Client
	bucket string
	prefix string // "" or ends in '/'
}

func (f *s3FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return &s3Dir{fsys: f, name: name, listPrefix: f.prefix}, nil
	}
	out, err := f.client.GetObject(f.ctx, &s3.GetObjectInput{
		Bucket: aws.String(f.bucket),
		Key:    aws.String(f.prefix + name),
	})
	if err == nil {
		return &s3File{body: out.Body, info: fileInfo{
			name:    path.Base(name),
			size:    aws.ToInt64(out.ContentLength),
			modTime: s3Time(out.LastModified),
		}}, nil
	}
	// Not an object: maybe a directory. S3 says 403 rather than 404 for
	// a missing object when ListBucket is granted only under a prefix, so
	// both lead to the listing; the listing decides.
	notFound := isS3NotFound(err)
	if !notFound && !isS3AccessDenied(err) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	getErr := err
	dirPrefix := f.prefix + name + "/"
	ls, err := f.client.ListObjectsV2(f.ctx, &s3.ListObjectsV2Input{
		Bucket:  aws.String(f.bucket),
		Prefix:  aws.String(dirPrefix),
		MaxKeys: aws.Int32(1),
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	if len(ls.Contents) == 0 {
		if notFound {
			getErr = fs.ErrNotExist
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: getErr}
	}
	return &s3Dir{fsys: f, name: name, listPrefix: dirPrefix}, nil
}

// s3Time drops sub-second precision, which listings carry and GetObject's
// Last-Modified header does not, so Stat and ReadDir agree.
func s3Time(t *time.Time) time.Time { return aws.ToTime(t).Truncate(time.Second).UTC() }

type fileInfo struct {
	name    string
	size    int64
	modTime time.Time
	dir     bool
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) ModTime() time.Time { return i.modTime }
func (i fileInfo) IsDir() bool        { return i.dir }
func (i fileInfo) Sys() any           { return nil }
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}

type s3File struct {
	body io.ReadCloser
	info fileInfo
}

func (f *s3File) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *s3File) Read(p []byte) (int, error) { return f.body.Read(p) }
func (f *s3File) Close() error               { return f.body.Close() }

type s3Dir struct {
	fsys       *s3FS
	name       string
	listPrefix string
	entries    []fs.DirEntry
	listed     bool
}

func (d *s3Dir) Stat() (fs.FileInfo, error) {
	return fileInfo{name: path.Base(d.name), dir: true}, nil
}
func (d *s3Dir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}
func (d *s3Dir) Close() error { return nil }

func (d *s3Dir) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.listed {
		if err := d.list(); err != nil {
			return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: err}
		}
		d.listed = true
	}
	if n <= 0 {
		all := d.entries
		d.entries = nil
		return all, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	out := d.entries[:n:n]
	d.entries = d.entries[n:]
	return out, nil
}

func (d *s3Dir) list() error {
	p := s3.NewListObjectsV2Paginator(d.fsys.client, &s3.ListObjectsV2Input{
		Bucket:    aws.String(d.fsys.bucket),
		Prefix:    aws.String(d.listPrefix),
		Delimiter: aws.String("/"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(d.fsys.ctx)
		if err != nil {
			return err
		}
		for _, cp := range page.CommonPrefixes {
			name := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), d.listPrefix), "/")
			if fs.ValidPath(name) && !strings.Contains(name, "/") {
				d.entries = append(d.entries, fs.FileInfoToDirEntry(fileInfo{name: name, dir: true}))
			}
		}
		for _, o := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(o.Key), d.listPrefix)
			// Skip "folder marker" objects and names fs.FS cannot express.
			if name == "" || !fs.ValidPath(name) || strings.Contains(name, "/") {
				continue
			}
			d.entries = append(d.entries, fs.FileInfoToDirEntry(fileInfo{
				name: name, size: aws.ToInt64(o.Size), modTime: s3Time(o.LastModified),
			}))
		}
	}
	slices.SortFunc(d.entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return nil
}
