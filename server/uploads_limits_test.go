package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"salespulse/etl"
	"salespulse/server/api"
)

// slowUpload opens a connection and sends the head of an upload of size bytes, and then
// nothing: the server is waiting for its body.
func slowUpload(t *testing.T, srv *Server, size int) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /api/uploads HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=XX\r\nContent-Length: %d\r\n\r\n",
		srv.Addr(), size)
	fmt.Fprint(conn, "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.csv\"\r\n\r\nSale Date,")
	return conn
}

// answer reads the HTTP answer on conn.
func answer(t *testing.T, conn net.Conn, within time.Duration) (*http.Response, api.ErrorResponse) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(within))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer within %v: %v", within, err)
	}
	defer resp.Body.Close()
	var e api.ErrorResponse
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &e)
	return resp, e
}

func TestATricklingUploadIsCutOff(t *testing.T) {
	client, name := bucket(t)
	srv := startServer(t, Config{S3: client, Bucket: name})
	conn := slowUpload(t, srv, 100_000)
	start := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() { // one byte every half second: far below the pace
		for {
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
				if _, err := conn.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	resp, e := answer(t, conn, 30*time.Second)
	took := time.Since(start)
	t.Logf("a trickling upload was answered %d %s after %.1f s", resp.StatusCode, e.Error.Code, took.Seconds())
	if resp.StatusCode != http.StatusRequestTimeout || e.Error.Code != api.CodeTimeout {
		t.Errorf("trickling upload: %d %+v", resp.StatusCode, e)
	}
	if took > uploadPaceWindow+10*time.Second {
		t.Errorf("held for %v, over the pace window of %v", took, uploadPaceWindow)
	}

	// A steady upload that takes longer than UploadTimeout is cut off at the deadline.
	short := startServer(t, Config{S3: client, Bucket: name, UploadTimeout: 2 * time.Second})
	conn = slowUpload(t, short, 10<<20)
	go func() {
		chunk := bytes.Repeat([]byte("y"), uploadPaceBytes)
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
				if _, err := conn.Write(chunk); err != nil {
					return
				}
			}
		}
	}()
	resp, e = answer(t, conn, 30*time.Second)
	if resp.StatusCode != http.StatusRequestTimeout || e.Error.Code != api.CodeTimeout {
		t.Errorf("an upload past its deadline: %d %+v", resp.StatusCode, e)
	}
}

func TestUploadsAreReceivedAFewAtATime(t *testing.T) {
	client, name := bucket(t)
	srv := startServer(t, Config{S3: client, Bucket: name, UploadConcurrency: 2})
	fixture, err := os.ReadFile(fixtureFiles(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	slow := []net.Conn{slowUpload(t, srv, 100_000), slowUpload(t, srv, 100_000)}
	time.Sleep(200 * time.Millisecond) // both are in the handler
	code, _, e := upload(t, srv.URL(), "file", "third.csv", fixture, nil)
	if code != http.StatusServiceUnavailable || e.Error.Code != api.CodeUnavailable {
		t.Errorf("a third upload with two under way: %d %+v", code, e)
	}

	// Many more: each is answered at once and its connection closed; none holds a
	// descriptor of the server's (a connection, a spooled file) while it trickles.
	fds := func() int {
		entries, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip("no /proc/self/fd to count descriptors")
		}
		return len(entries)
	}
	before := fds()
	const crowd = 300
	for range crowd {
		c := slowUpload(t, srv, 100_000)
		if resp, _ := answer(t, c, 10*time.Second); resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("an upload over the cap: %d", resp.StatusCode)
		}
	}
	time.Sleep(time.Second)        // the server's ends close half a second after the answer
	held := fds() - before - crowd // the test's own ends of the connections are in this process too
	t.Logf("%d slow uploads over a cap of 2: the server holds %d more descriptors", crowd, held)
	if held > 20 {
		t.Errorf("the server holds %d descriptors for %d refused uploads", held, crowd)
	}
	for _, c := range slow {
		c.Close()
	}
	var last int
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if last, _, _ = upload(t, srv.URL(), "file", "third.csv", fixture, nil); last == http.StatusCreated {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if last != http.StatusCreated {
		t.Errorf("once the slow uploads left: %d", last)
	}
}

// recordingHandler keeps the level of every record logged.
type recordingHandler struct {
	mu     sync.Mutex
	levels []slog.Level
	slog.Handler
}

func (h *recordingHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	h.levels = append(h.levels, r.Level)
	h.mu.Unlock()
	return nil
}

func (h *recordingHandler) errors() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, l := range h.levels {
		if l >= slog.LevelError {
			n++
		}
	}
	return n
}

func TestUploadNamesWithControlCharactersAreRefused(t *testing.T) {
	client, name := bucket(t)
	rec := &recordingHandler{Handler: slog.NewTextHandler(io.Discard, nil)}
	srv := startServer(t, Config{S3: client, Bucket: name, Log: slog.New(rec)})
	fixture, err := os.ReadFile(fixtureFiles(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, disp := range []string{
		`form-data; name="file"; filename*=UTF-8''a%00b.csv`,
		`form-data; name="file"; filename*=UTF-8''%00`,
		`form-data; name="file"; filename*=UTF-8''bell%07.csv`,
		`form-data; name="file"; filename*=UTF-8''bad%FF.csv`,
	} {
		var b bytes.Buffer
		b.WriteString("--XX\r\nContent-Disposition: " + disp + "\r\nContent-Type: text/csv\r\n\r\n")
		b.Write(fixture)
		b.WriteString("\r\n--XX--\r\n")
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/api/uploads", &b)
		req.Header.Set("Content-Type", "multipart/form-data; boundary=XX")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e api.ErrorResponse
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || e.Error.Param != "file" {
			t.Errorf("%s: %d %+v", disp, resp.StatusCode, e)
		}
	}
	if n := rec.errors(); n != 0 {
		t.Errorf("%d ERROR log lines for bad requests", n)
	}
}

func TestAnUploadWhileTheStoreIsDownIsUnavailable(t *testing.T) {
	rec := &recordingHandler{Handler: slog.NewTextHandler(io.Discard, nil)}
	_, name := bucket(t)
	down, err := etl.NewS3Client(context.Background(), etl.S3Options{Endpoint: "http://" + closedAddr(t), Region: "us-east-1",
		AccessKeyID: "test", SecretAccessKey: "test"})
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, Config{S3: s3.New(down.Options(), func(o *s3.Options) { o.RetryMaxAttempts = 1 }), Bucket: name, Log: slog.New(rec)})
	fixture, err := os.ReadFile(fixtureFiles(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.WriteString("--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n")
	body.Write(fixture)
	body.WriteString("\r\n--XX--\r\n")
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/api/uploads", &body)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=XX")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e api.ErrorResponse
	json.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode != http.StatusServiceUnavailable || e.Error.Code != api.CodeUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("upload with the store down: %d %+v, Retry-After %q", resp.StatusCode, e, resp.Header.Get("Retry-After"))
	}
	if n := rec.errors(); n != 0 {
		t.Errorf("%d ERROR log lines for a store that is away", n)
	}
	if !strings.Contains(e.Error.Message, "try again") {
		t.Errorf("message %q", e.Error.Message)
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
