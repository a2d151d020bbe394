package devstack

import (
	"net/http"
	"strings"

	"salespulse/etl/s3event"
)

// creation is an S3 request that creates an object if it succeeds.
type creation struct {
	bucket, key string
	eventName   string // an s3event.ObjectCreated* name
}

// classify tells whether r creates an object, by the same rules gofakes3
// uses to route it (routing.go: routeBase, routeObject,
// routeMultipartUpload), so that the two cannot disagree:
//
//   - PUT /bucket/key without uploadId, uploads, versioning, versions or a
//     versionId is PutObject, or CopyObject when it carries
//     X-Amz-Copy-Source. A copy creates an object as much as a put does,
//     and AWS and MinIO notify it (ObjectCreated:Copy), so it is notified.
//     (gofakes3 routes a lone partNumber, or ?tagging and ?acl, to
//     PutObject as well, and so do we: the object is rewritten either way.)
//   - POST /bucket/key?uploadId=… is CompleteMultipartUpload.
//   - PUT /bucket/key?uploadId=…&partNumber=… (UploadPart) creates nothing
//     until the upload completes.
//
// Browser-form uploads (POST /bucket) are not notified: nothing in the
// project uses them, and their key is inside the form body.
//
// Requests are path-style: the stack enables no virtual-host buckets.
func classify(r *http.Request) (creation, bool) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket == "" || key == "" {
		return creation{}, false
	}
	q := r.URL.Query()
	if q.Get("uploadId") != "" {
		if r.Method == http.MethodPost {
			return creation{bucket, key, s3event.ObjectCreatedMultipart}, true
		}
		return creation{}, false
	}
	if r.Method != http.MethodPut || q.Has("uploads") || q.Has("versioning") || q.Has("versions") {
		return creation{}, false
	}
	if v := q.Get("versionId"); v != "" && v != "null" {
		return creation{}, false
	}
	if r.Header.Get("X-Amz-Copy-Source") != "" {
		return creation{bucket, key, s3event.ObjectCreatedCopy}, true
	}
	return creation{bucket, key, s3event.ObjectCreatedPut}, true
}
