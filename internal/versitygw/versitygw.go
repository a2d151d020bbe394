// Package versitygw runs the Versity S3 Gateway for tests: a real S3 server process over a
// temporary directory, publishing its bucket notifications to a Kafka broker, one server per
// test, stopped when the test ends.
//
// The executable is found as $VERSITYGW, else versitygw on PATH, else in the directory `go
// install` puts it (GOBIN, or GOPATH/bin). A test that needs it fails, saying how to install
// it, when it is not there: .ci/run installs it.
package versitygw

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Module is what `go install` builds; the tests are written against this release.
const Module = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// Root credentials of every server Start runs, and its region.
const (
	AccessKey = "salespulse-test"
	SecretKey = "salespulse-test-secret"
	Region    = "us-east-1"
)

// healthPath answers GET once the gateway serves S3.
const healthPath = "/health"

// Config says what a server holds and where it sends its notifications.
type Config struct {
	// Kafka is the bootstrap address (host:port) notifications go to; empty sends none. The
	// gateway publishes an s3:TestEvent there at start and does not start without it.
	Kafka string
	// Topic receives the notifications; it must exist.
	Topic string
	// Buckets exist when Start returns.
	Buckets []string
}

// Server is a running gateway.
type Server struct {
	// Endpoint is the S3 endpoint URL, http://127.0.0.1:PORT, to be used path-style.
	Endpoint string
	// Dir is the gateway's root: one directory per bucket, one file per object.
	Dir string

	cmd    *exec.Cmd
	out    *output
	exited chan struct{}
}

// Find returns the path of the versitygw executable, or an error saying how to install it.
func Find() (string, error) {
	if path := os.Getenv("VERSITYGW"); path != "" {
		if _, err := exec.LookPath(path); err != nil {
			return "", fmt.Errorf("VERSITYGW=%s: %w", path, err)
		}
		return path, nil
	}
	if path, err := exec.LookPath("versitygw"); err == nil {
		return path, nil
	}
	for _, dir := range installDirs() {
		path := filepath.Join(dir, "versitygw")
		if _, err := exec.LookPath(path); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("versitygw is not installed: not on PATH, not in GOBIN or GOPATH/bin, and VERSITYGW is not set (install it with `go install %s`)", Module)
}

// installDirs are where `go install` puts executables.
func installDirs() []string {
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return nil
	}
	// One line each, the first empty when GOBIN is not set.
	gobin, gopath, _ := strings.Cut(strings.TrimSuffix(string(out), "\n"), "\n")
	var dirs []string
	if gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, dir := range filepath.SplitList(gopath) {
		dirs = append(dirs, filepath.Join(dir, "bin"))
	}
	return dirs
}

// Start runs a gateway in a directory of its own on a free port and returns once it serves
// S3 (and, with Kafka, has published its test event). It fails the test when versitygw is
// missing or does not start; it is stopped when the test ends.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	bin, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, bucket := range cfg.Buckets {
		// The posix backend serves each directory of its root as a bucket.
		if err := os.Mkdir(filepath.Join(dir, bucket), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The port is free when chosen, but another process may take it before the gateway
	// listens: then try another.
	var errs []error
	for range 3 {
		s, err := start(bin, dir, cfg)
		if err == nil {
			t.Cleanup(func() {
				if err := s.stop(10 * time.Second); err != nil {
					t.Errorf("versitygw: %v", err)
				}
				if t.Failed() {
					t.Logf("versitygw output:\n%s", s.out.tail())
				}
			})
			return s
		}
		errs = append(errs, err)
	}
	t.Fatalf("versitygw did not start: %v", errors.Join(errs...))
	return nil
}

func start(bin, dir string, cfg Config) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	args := []string{"--port", addr, "--health", healthPath, "--region", Region, "--quiet"}
	if cfg.Kafka != "" {
		args = append(args, "--event-kafka-url", cfg.Kafka, "--event-kafka-topic", cfg.Topic)
	}
	args = append(args, "posix", dir)
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"ROOT_ACCESS_KEY_ID=" + AccessKey, "ROOT_SECRET_ACCESS_KEY=" + SecretKey, "HOME=" + dir}
	s := &Server{Endpoint: "http://" + addr, Dir: dir, cmd: cmd, out: &output{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(30 * time.Second); err != nil {
		_ = s.stop(time.Second)
		return nil, fmt.Errorf("%w; output:\n%s", err, s.out.tail())
	}
	return s, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls the health endpoint until it answers 200, the process exits or within
// has passed.
func (s *Server) waitReady(within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint+healthPath, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("versitygw exited: %v", s.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("versitygw at %s not ready within %v", s.Endpoint, within)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop ends the gateway (SIGTERM, then SIGKILL after within); the test's cleanup calls it
// too, for tests that stop the store on purpose.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if err := s.stop(10 * time.Second); err != nil {
		t.Errorf("versitygw: %v", err)
	}
}

func (s *Server) stop(within time.Duration) error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(within):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("did not stop within %v of SIGTERM; killed", within)
	}
}

// Output is what the gateway printed so far.
func (s *Server) Output() string { return s.out.String() }

// output collects a process's output while it runs.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

func (o *output) tail() string {
	s := o.String()
	return s[max(0, len(s)-3000):]
}
