package evidence

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3Config selects a bucket and, for S3-compatible servers (MinIO, Ceph,
// the test's gofakes3), an endpoint. Credentials are never configured here:
// they come from the AWS default chain (environment, shared files, the
// EC2/ECS/Lambda role), which is what least privilege wants.
type S3Config struct {
	Bucket string
	Prefix string // object name prefix, e.g. "evidence"; no leading/trailing '/'
	// Endpoint overrides the AWS endpoint (https://minio.example:9000).
	Endpoint string
	// Region; empty uses the default chain (AWS_REGION, config file, IMDS).
	Region string
	// PathStyle addresses bucket as endpoint/bucket/key instead of
	// bucket.endpoint/key, which most S3-compatible servers need.
	PathStyle bool
}

// S3Endpoint is the part of S3Config that says how to reach S3, without
// a bucket: what Export and OpenDataset need besides an s3:// URI.
type S3Endpoint struct {
	Endpoint  string
	Region    string
	PathStyle bool
}

// s3Timeout bounds every single S3 call, so a stalled connection cannot
// hold an incident handler or the sweeper forever.
const s3Timeout = 60 * time.Second

func newS3Client(ctx context.Context, ep S3Endpoint) (*s3.Client, error) {
	var opts []func(*config.LoadOptions) error
	if ep.Region != "" {
		opts = append(opts, config.WithRegion(ep.Region))
	}
	opts = append(opts, config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(s3Timeout)))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("evidence: AWS config: %w", err)
	}
	if cfg.Region == "" {
		// S3-compatible servers rarely care, but the signer needs one.
		cfg.Region = "us-east-1"
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if ep.Endpoint != "" {
			o.BaseEndpoint = aws.String(ep.Endpoint)
			// Many S3-compatible servers reject the newer default
			// checksum trailers; send checksums only where required.
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
		o.UsePathStyle = ep.PathStyle
	}), nil
}

type s3Backend struct {
	client *s3.Client
	bucket string
	prefix string // "" or ends in '/'
}

// NewS3 returns a Store keeping sealed objects in an S3 bucket.
func NewS3(ctx context.Context, c S3Config, keys *Keys) (Store, error) {
	if c.Bucket == "" {
		return nil, errors.New("evidence: S3 bucket not set")
	}
	prefix := strings.Trim(c.Prefix, "/")
	if prefix != "" {
		if err := ValidateKey(prefix); err != nil {
			return nil, fmt.Errorf("evidence: S3 prefix: %w", err)
		}
		prefix += "/"
	}
	client, err := newS3Client(ctx, S3Endpoint{Endpoint: c.Endpoint, Region: c.Region, PathStyle: c.PathStyle})
	if err != nil {
		return nil, err
	}
	return newSealedStore(&s3Backend{client: client, bucket: c.Bucket, prefix: prefix}, keys)
}

func (b *s3Backend) put(ctx context.Context, name string, data []byte) error {
	_, err := b.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(b.bucket),
		Key:           aws.String(b.prefix + name),
		Body:          bytesReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String("application/octet-stream"),
	})
	return err
}

func (b *s3Backend) get(ctx context.Context, name string) ([]byte, error) {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(b.bucket),
		Key:    aws.String(b.prefix + name),
	})
	if isS3NotFound(err) {
		return nil, errNoObject
	}
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return readLimited(out.Body, maxObjectBytes)
}

func (b *s3Backend) del(ctx context.Context, name string) error {
	_, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(b.bucket),
		Key:    aws.String(b.prefix + name),
	})
	if isS3NotFound(err) {
		return nil
	}
	return err
}

func (b *s3Backend) list(ctx context.Context, prefix string, fn func(string, time.Time) error) error {
	p := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(b.bucket),
		Prefix: aws.String(b.prefix + prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, o := range page.Contents {
			name, ok := strings.CutPrefix(aws.ToString(o.Key), b.prefix)
			if !ok {
				continue
			}
			if err := fn(name, aws.ToTime(o.LastModified)); err != nil {
				return err
			}
		}
	}
	return nil
}

func isS3NotFound(err error) bool {
	if err == nil {
		return false
	}
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound")
}

func isS3AccessDenied(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "AccessDenied"
}
