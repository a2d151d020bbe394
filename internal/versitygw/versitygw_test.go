package versitygw

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"salespulse/etl"
)

func TestFindSaysHowToInstallWhenItIsMissing(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("VERSITYGW", "")
	t.Setenv("PATH", filepath.Dir(goBin)) // the go command, and no versitygw
	t.Setenv("GOBIN", "")
	t.Setenv("GOPATH", t.TempDir())
	_, err = Find()
	if err == nil || !strings.Contains(err.Error(), "go install "+Module) {
		t.Errorf("Find() error = %v, want one saying `go install %s`", err, Module)
	}
}

func TestFindLooksWhereGoInstallPutsIt(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("VERSITYGW", "")
	t.Setenv("PATH", filepath.Dir(goBin))
	gopath := t.TempDir()
	t.Setenv("GOPATH", gopath)
	t.Setenv("GOBIN", "")
	inGopath := fakeExecutable(t, filepath.Join(gopath, "bin"))
	if got, err := Find(); err != nil || got != inGopath {
		t.Errorf("with GOPATH/bin: Find() = %q, %v; want %q", got, err, inGopath)
	}
	gobin := t.TempDir()
	t.Setenv("GOBIN", gobin)
	inGobin := fakeExecutable(t, gobin)
	if got, err := Find(); err != nil || got != inGobin {
		t.Errorf("with GOBIN: Find() = %q, %v; want %q", got, err, inGobin)
	}
}

// fakeExecutable writes an executable named versitygw into dir.
func fakeExecutable(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "versitygw")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}

func TestFindTakesVERSITYGWFirst(t *testing.T) {
	t.Setenv("VERSITYGW", filepath.Join(t.TempDir(), "no-such-versitygw"))
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), "VERSITYGW=") {
		t.Errorf("Find() error = %v, want one naming VERSITYGW", err)
	}
	exe := fakeExecutable(t, t.TempDir())
	t.Setenv("VERSITYGW", exe)
	if got, err := Find(); err != nil || got != exe {
		t.Errorf("Find() = %q, %v; want %q", got, err, exe)
	}
}

func TestStartServesTheBucketsAndStopFreesThePort(t *testing.T) {
	s := Start(t, Config{Buckets: []string{"sales", "archive"}})
	client, err := etl.NewS3Client(context.Background(), etl.S3Options{
		Endpoint: s.Endpoint, Region: Region, AccessKeyID: AccessKey, SecretAccessKey: SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.ListBuckets(context.Background(), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range out.Buckets {
		names = append(names, aws.ToString(b.Name))
	}
	if !slices.Equal(names, []string{"archive", "sales"}) {
		t.Errorf("buckets %q, want archive and sales", names)
	}
	s.Stop(t)
	addr := strings.TrimPrefix(s.Endpoint, "http://")
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after Stop", addr)
	}
}
