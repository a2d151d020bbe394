package etl

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ListObjects is every object of bucket under the filter's prefix (every ListObjectsV2 page)
// that the filter takes and that was last modified within [since, until) (a zero time leaves
// that end open), in key order: the files a backfill reads.
func ListObjects(ctx context.Context, client *s3.Client, bucket string, filter KeyFilter, since, until time.Time) ([]*S3Object, error) {
	var objects []*S3Object
	pages := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(filter.Prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, s3Error("list", bucket, filter.Prefix, err)
		}
		for _, o := range page.Contents {
			key, modified := aws.ToString(o.Key), aws.ToTime(o.LastModified)
			if !filter.Match(key) || (!since.IsZero() && modified.Before(since)) || (!until.IsZero() && !modified.Before(until)) {
				continue
			}
			objects = append(objects, NewS3Object(client, bucket, key, aws.ToInt64(o.Size), aws.ToString(o.ETag), modified))
		}
	}
	return objects, nil
}
