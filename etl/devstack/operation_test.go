package devstack

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"salespulse/etl/s3event"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		method, target string
		copy           bool
		want           creation
		ok             bool
	}{
		{"PUT", "/sales/a.csv", false, creation{"sales", "a.csv", s3event.ObjectCreatedPut}, true},
		{"PUT", "/sales/daily/a%20b+c.csv", false, creation{"sales", "daily/a b+c.csv", s3event.ObjectCreatedPut}, true},
		{"PUT", "/sales/a.csv?x-id=PutObject", false, creation{"sales", "a.csv", s3event.ObjectCreatedPut}, true},
		{"PUT", "/sales/a.csv?versionId=null", false, creation{"sales", "a.csv", s3event.ObjectCreatedPut}, true},
		{"PUT", "/sales/b.csv", true, creation{"sales", "b.csv", s3event.ObjectCreatedCopy}, true},
		{"POST", "/sales/a.csv?uploadId=abc", false, creation{"sales", "a.csv", s3event.ObjectCreatedMultipart}, true},
		{"PUT", "/sales/a.csv?uploadId=abc&partNumber=1", false, creation{}, false}, // UploadPart
		{"PUT", "/sales/a.csv?partNumber=1&uploadId=abc", true, creation{}, false},  // UploadPartCopy
		{"POST", "/sales/a.csv?uploads", false, creation{}, false},                  // CreateMultipartUpload
		{"DELETE", "/sales/a.csv?uploadId=abc", false, creation{}, false},           // AbortMultipartUpload
		{"GET", "/sales/a.csv", false, creation{}, false},
		{"HEAD", "/sales/a.csv", false, creation{}, false},
		{"DELETE", "/sales/a.csv", false, creation{}, false},
		{"PUT", "/sales/a.csv?versionId=3", false, creation{}, false},
		{"PUT", "/sales", false, creation{}, false},  // CreateBucket
		{"PUT", "/sales/", false, creation{}, false}, // CreateBucket too
		{"PUT", "/sales?versioning", false, creation{}, false},
		{"POST", "/sales?delete", false, creation{}, false},
		{"POST", "/sales", false, creation{}, false}, // browser upload: not notified
		{"PUT", "/", false, creation{}, false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.target, nil)
		if tt.copy {
			r.Header.Set("x-amz-copy-source", "/sales/a.csv")
		}
		got, ok := classify(r)
		if got != tt.want || ok != tt.ok {
			t.Errorf("classify(%s %s, copy %v) = %+v, %v; want %+v, %v", tt.method, tt.target, tt.copy, got, ok, tt.want, tt.ok)
		}
	}
}

// A notification that cannot be published fails the request with an S3
// InternalError, which SDKs retry; the retry publishes.
func TestPublishFailureFailsTheRequest(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("sales"); err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		calls = map[string]int{} // publish calls by record key
	)
	n := &notifier{
		next:    gofakes3.New(backend).Server(),
		backend: backend,
		buckets: map[string]bool{"sales": true},
		// The first publish for each object fails.
		publish: func(_ context.Context, key string, _ []byte) error {
			mu.Lock()
			defer mu.Unlock()
			calls[key]++
			if calls[key] == 1 {
				return errors.New("broker gone")
			}
			return nil
		},
	}
	srv := httptest.NewServer(n)
	defer srv.Close()

	// A raw request sees the error.
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/sales/a.csv", strings.NewReader("x"))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError ||
		!strings.Contains(string(body), "<Code>InternalError</Code>") ||
		!strings.Contains(string(body), "broker gone") ||
		resp.Header.Get("ETag") != "" {
		t.Fatalf("response %d %v\n%s\nwant a 500 InternalError without ETag", resp.StatusCode, resp.Header, body)
	}
	// An SDK client retries and succeeds.
	put(t, s3Client(t, srv.URL), "sales", "b.csv", csv)
	mu.Lock()
	defer mu.Unlock()
	if calls["sales/b.csv"] != 2 {
		t.Errorf("%d publish calls for sales/b.csv, want 2: a failure, then the retry's", calls["sales/b.csv"])
	}
}
