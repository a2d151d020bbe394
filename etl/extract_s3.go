package etl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Failures of the store that no retry changes: the file fails at once (see ClassifyFailure).
var (
	// ErrGone means a file's object no longer exists.
	ErrGone = errors.New("the object no longer exists")
	// ErrNoBucket means the bucket an event or URL names does not exist.
	ErrNoBucket = errors.New("the bucket does not exist")
	// ErrAccessDenied means the store refused the credentials or the permission to read.
	ErrAccessDenied = errors.New("the store refused access (check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket's permissions)")
)

// S3Options say how to reach the object store.
type S3Options struct {
	Endpoint        string // an S3-compatible store (MinIO, ...); empty for AWS
	Region          string
	AccessKeyID     string // with SecretAccessKey; empty for the standard AWS credential chain
	SecretAccessKey string
}

// NewS3Client makes an S3 client. With an Endpoint (MinIO and other S3-compatible stores) it
// addresses buckets path-style and asks for checksums only where S3 requires them, as such
// stores expect. Without explicit keys it uses the standard AWS credential chain.
func NewS3Client(ctx context.Context, cfg S3Options) (*s3.Client, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(cfg.Region)}
	if cfg.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	return s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.Retryer = retry.NewStandard(func(r *retry.StandardOptions) {
			r.MaxAttempts = 5
			r.MaxBackoff = 5 * time.Second
		})
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
			o.UsePathStyle = true
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	}), nil
}

// ParseS3URL splits s3://bucket/key.
func ParseS3URL(s string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	bucket, key, _ = strings.Cut(rest, "/")
	if !ok || bucket == "" {
		return "", "", fmt.Errorf("%q is not an s3://BUCKET/KEY URL", s)
	}
	if key, err = url.PathUnescape(key); err != nil {
		return "", "", fmt.Errorf("%q: %w", s, err)
	}
	return bucket, key, nil
}

// S3Object is a file in a bucket, streamed with GetObject. The first read fixes the object
// version (its ETag); reading again (the merge path, a refused file's rejects) insists on
// the same version, so one load never mixes two versions of an object.
type S3Object struct {
	client *s3.Client
	info   FileInfo
	etag   string // the version read first
}

// NewS3Object describes an object as an event announced it; size and etag may be unknown.
func NewS3Object(client *s3.Client, bucket, key string, size int64, etag string, at time.Time) *S3Object {
	return &S3Object{client: client, info: FileInfo{
		Kind: "s3", Bucket: bucket, Key: key, Size: size, ETag: strings.Trim(etag, `"`), EventTime: at,
	}}
}

// StatS3Object describes an object from HeadObject (`load s3://…`).
func StatS3Object(ctx context.Context, client *s3.Client, bucket, key string) (*S3Object, error) {
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		err = s3Error("head", bucket, key, err)
		if errors.Is(err, ErrGone) && bucketMissing(ctx, client, bucket) {
			// A HEAD answer has no body: 404 says neither whether the key or the bucket is missing.
			err = fmt.Errorf("s3 head s3://%s/%s: %w", bucket, key, ErrNoBucket)
		}
		return nil, err
	}
	return NewS3Object(client, bucket, key, aws.ToInt64(head.ContentLength), aws.ToString(head.ETag), time.Time{}), nil
}

func bucketMissing(ctx context.Context, client *s3.Client, bucket string) bool {
	_, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket})
	var resp *awshttp.ResponseError
	return errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusNotFound
}

// AnnouncedBy records the event that announced the object, so that the same event seen
// again (redelivered after a crash, replayed, or sent twice by the store) is recognised.
func (o *S3Object) AnnouncedBy(event string) *S3Object {
	o.info.Event = event
	return o
}

func (o *S3Object) Info() FileInfo { return o.info }

// Open streams the object; nothing is held in memory beyond the reader's buffer.
func (o *S3Object) Open(ctx context.Context) (io.ReadCloser, error) {
	in := &s3.GetObjectInput{Bucket: &o.info.Bucket, Key: &o.info.Key}
	if o.etag != "" {
		in.IfMatch = aws.String(`"` + o.etag + `"`)
	}
	out, err := o.client.GetObject(ctx, in)
	if err != nil {
		return nil, s3Error("get", o.info.Bucket, o.info.Key, err)
	}
	if o.etag == "" {
		o.etag = strings.Trim(aws.ToString(out.ETag), `"`)
		o.info.ETag = o.etag
		if out.ContentLength != nil {
			o.info.Size = *out.ContentLength
		}
	}
	return out.Body, nil
}

// s3Error names the operation and the object, and marks the store's answers that no retry
// changes: a missing object (ErrGone) or bucket (ErrNoBucket), refused credentials or
// permissions (ErrAccessDenied).
func s3Error(op, bucket, key string, err error) error {
	var api smithy.APIError
	code := ""
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	var noKey *types.NoSuchKey
	var noBucket *types.NoSuchBucket
	var notFound *types.NotFound
	var mark error
	switch {
	case errors.As(err, &noBucket) || code == "NoSuchBucket":
		mark = ErrNoBucket
	case errors.As(err, &noKey) || errors.As(err, &notFound) || code == "NoSuchKey" || code == "NotFound":
		mark = ErrGone
	case deniedCodes[code]:
		return fmt.Errorf("s3 %s s3://%s/%s: %w (%s)", op, bucket, key, ErrAccessDenied, code)
	}
	if mark != nil {
		return fmt.Errorf("s3 %s s3://%s/%s: %w", op, bucket, key, mark)
	}
	return fmt.Errorf("s3 %s s3://%s/%s: %w", op, bucket, key, err)
}

// deniedCodes are the store's refusals of who is asking: wrong keys, a bad signature (a
// wrong secret), or no permission. A HEAD request gets no body, hence "Forbidden"; the Versity
// S3 Gateway says XAdminUserNotFound for an unknown access key.
var deniedCodes = map[string]bool{
	"AccessDenied": true, "InvalidAccessKeyId": true, "SignatureDoesNotMatch": true,
	"AllAccessDisabled": true, "AccountProblem": true, "InvalidSecurity": true, "Forbidden": true,
	"XAdminUserNotFound": true,
}
