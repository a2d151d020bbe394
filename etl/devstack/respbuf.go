package devstack

import (
	"bytes"
	"net/http"
)

// responseBuffer holds a response back from the client: the notifier
// publishes an event after the S3 handler has finished and before the
// client may see that the object exists. Only used for requests that create
// objects, whose responses are empty or a short XML document.
type responseBuffer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newResponseBuffer() *responseBuffer {
	return &responseBuffer{header: make(http.Header)}
}

func (b *responseBuffer) Header() http.Header { return b.header }

func (b *responseBuffer) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *responseBuffer) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

// code is the status the client would get.
func (b *responseBuffer) code() int {
	if b.status == 0 {
		return http.StatusOK
	}
	return b.status
}

// sendTo writes the held response to w.
func (b *responseBuffer) sendTo(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range b.header {
		h[k] = v
	}
	w.WriteHeader(b.code())
	_, _ = b.body.WriteTo(w) // the client went away: nothing to do
}
