// Package testbin runs the salespulse binary the way end-to-end tests need it: built once per
// test package, run in an empty working directory (no .env) with only the environment the
// test gives it, either to completion or in the background with its output collected; and
// the in-process Kafka and S3 (with bucket notifications) for it to work against.
package testbin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"salespulse/etl"
	"salespulse/etl/devstack"
)

// Binary is a built salespulse executable.
type Binary struct {
	Path string
	dir  string
}

// Build compiles the salespulse command into a temporary directory; Remove deletes it.
func Build() (*Binary, error) {
	dir, err := os.MkdirTemp("", "salespulse-bin")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "salespulse")
	if out, err := exec.Command("go", "build", "-o", path, "salespulse").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("build salespulse: %v\n%s", err, out)
	}
	return &Binary{Path: path, dir: dir}, nil
}

// Remove deletes the executable.
func (b *Binary) Remove() { os.RemoveAll(b.dir) }

func (b *Binary) command(t testing.TB, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(b.Path, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir}, env...)
	return cmd
}

// Outcome is what a finished command printed and its exit status.
type Outcome struct {
	Stdout, Stderr string
	Code           int
}

// Run runs a command to completion.
func (b *Binary) Run(t testing.TB, env []string, args ...string) Outcome {
	t.Helper()
	cmd := b.command(t, env, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return Outcome{out.String(), errb.String(), code}
}

// Proc is a command running in the background, its output collected (and copied to the
// test's stderr with TESTBIN_VERBOSE=1). It is killed when the test ends.
type Proc struct {
	cmd    *exec.Cmd
	out    *Output
	exited chan struct{}
	err    error
}

// Start starts a command in the background.
func (b *Binary) Start(t testing.TB, env []string, args ...string) *Proc {
	t.Helper()
	cmd := b.command(t, env, args...)
	p := &Proc{cmd: cmd, out: &Output{}, exited: make(chan struct{})}
	if os.Getenv("TESTBIN_VERBOSE") == "1" {
		p.out.tee = os.Stderr
	}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.Kill)
	return p
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Alive reports whether the process still runs.
func (p *Proc) Alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Proc) Kill() {
	if p.Alive() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// Stop sends SIGTERM and waits for the exit; its error is the exit status, or the process
// not stopping within the time given (it is then killed).
func (p *Proc) Stop(within time.Duration) error {
	if !p.Alive() {
		return fmt.Errorf("had exited already: %v", p.err)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.err
	case <-time.After(within):
		p.Kill()
		return fmt.Errorf("no exit within %v of SIGTERM", within)
	}
}

// Exited is closed when the process has ended; Err is then its exit status.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Err is the exit status once Exited is closed.
func (p *Proc) Err() error { return p.err }

// Output is everything the process printed so far.
func (p *Proc) Output() string { return p.out.String() }

// Tail is the end of the output, for failure messages.
func (p *Proc) Tail() string {
	s := p.out.String()
	return s[max(0, len(s)-3000):]
}

var settledLine = regexp.MustCompile(`msg="etl: file settled" file=(\S+) status=(\w+)`)

// Settled lists the "file settled" log lines of a worker: file and status, in order.
func (p *Proc) Settled() [][2]string {
	var out [][2]string
	for _, m := range settledLine.FindAllStringSubmatch(p.out.String(), -1) {
		out = append(out, [2]string{m[1], m[2]})
	}
	return out
}

// Output collects a process's output for the test to read while it runs.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
	tee io.Writer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.tee != nil {
		_, _ = o.tee.Write(p)
	}
	return o.buf.Write(p)
}

func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// CommittedOffsets is the sum of the offsets group committed on topic.
func (s *Stack) CommittedOffsets(t testing.TB, group, topic string) int64 {
	t.Helper()
	admin, err := sarama.NewClusterAdmin([]string{s.KafkaAddr()}, etl.NewSaramaConfig(etl.KafkaOptions{ClientID: "test"}))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	res, err := admin.ListConsumerGroupOffsets(group, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, block := range res.Blocks[topic] {
		if block.Offset > 0 {
			n += block.Offset
		}
	}
	return n
}

// Stack is in-process Kafka and S3, the bucket "sales" notifying the topic "sales.files",
// for the real binary to work against.
type Stack struct {
	*devstack.Stack
	S3 *s3.Client
}

// StartStack starts the stack on free ports; it stops when the test ends.
func StartStack(t testing.TB) *Stack {
	t.Helper()
	st, err := devstack.Start(context.Background(), devstack.Config{KafkaAddr: "127.0.0.1:0", S3Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c, err := etl.NewS3Client(context.Background(), etl.S3Options{
		AccessKeyID: "k", SecretAccessKey: "s", Region: "us-east-1", Endpoint: st.S3Endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	return &Stack{st, c}
}

// Env is the environment of a command using the stack and the database at databaseURL, in
// consumer group group, plus extra variables (which win over the ones before). Commands log
// warnings and errors only, unless TESTBIN_LOG_LEVEL says otherwise.
func (s *Stack) Env(databaseURL, group string, extra ...string) []string {
	level := os.Getenv("TESTBIN_LOG_LEVEL")
	if level == "" {
		level = "warn"
	}
	return append([]string{
		"DATABASE_URL=" + databaseURL, "BOOTSTRAP_SERVERS=" + s.KafkaAddr(), "S3_ENDPOINT=" + s.S3Endpoint(),
		"AWS_ACCESS_KEY_ID=k", "AWS_SECRET_ACCESS_KEY=s", "AWS_REGION=us-east-1",
		"KAFKA_GROUP=" + group, "KAFKA_SESSION_TIMEOUT=2s", "LOG_LEVEL=" + level,
	}, extra...)
}

// Put puts an object into the bucket "sales", giving up after a minute.
func (s *Stack) Put(key string, body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := s.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(devstack.DefaultBucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	return err
}
