package cli

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"salespulse/etl"
	"salespulse/internal/poll"
)

// Secrets as the environment gives them; the password needs percent-encoding in a URL.
const (
	secretToken    = "tok-s3cr3t-42"
	secretPassword = "pw-s3cr@t"
	secretSASL     = "sasl-s3cr3t"
	secretAWS      = "aws-s3cr3t"
)

func TestHelpAndBadFlagsNeverShowSecrets(t *testing.T) {
	for _, db := range [][]string{
		{"DATABASE_URL=postgres://u:" + url.QueryEscape(secretPassword) + "@db.example/sales"},
		{"POSTGRES_HOST=db.example", "POSTGRES_USER=u", "POSTGRES_PASSWORD=" + secretPassword},
	} {
		env := append([]string{"API_TOKEN=" + secretToken, "SASL_USERNAME=u", "SASL_PASSWORD=" + secretSASL,
			"AWS_SECRET_ACCESS_KEY=" + secretAWS, "AWS_ACCESS_KEY_ID=k"}, db...)
		for _, cmd := range []string{"serve", "etl", "demo", "load", "watch", "migrate", "verify"} {
			for _, flag := range []string{"-h", "--no-such-flag"} {
				r := salespulse(t, env, cmd, flag)
				out := r.Stdout + r.Stderr
				for _, secret := range []string{secretToken, secretPassword, url.QueryEscape(secretPassword), secretSASL, secretAWS} {
					if strings.Contains(out, secret) {
						t.Errorf("%s %s shows a secret (%s):\n%s", cmd, flag, secret, out)
					}
				}
				if !strings.Contains(out, "-database-url") {
					t.Errorf("%s %s printed no usage:\n%s", cmd, flag, out)
				}
			}
		}
	}
}

// ledgerRows are the ledger's rows of a file: status and error.
func ledgerRows(t *testing.T, key string) [][2]string {
	t.Helper()
	rows, err := testDB.Pool.Query(context.Background(), `SELECT status, error FROM ingested_files WHERE object_key = $1 ORDER BY id`, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var r [2]string
		if err := rows.Scan(&r[0], &r[1]); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestLoadRecordsEveryFileItCouldOpen(t *testing.T) {
	testDB.Reset(t)
	dir := t.TempDir()
	good := salespulse(t, nil, "generate", "--rows", "50", "--seed", "61", "--date", "2024-07-01").Stdout
	header, rows, _ := strings.Cut(good, "\n")
	nulHeader := filepath.Join(dir, "nul-header.csv")
	os.WriteFile(nulHeader, []byte(header+",Ex\x00tra\n"+strings.ReplaceAll(rows, "\n", ",x\n")), 0o644)

	r := salespulse(t, dbEnv(), "load", "--json", nulHeader)
	var res etl.Result
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil || r.Code != 0 || res.Status != etl.StatusLoaded || res.RowsLoaded != 50 {
		t.Fatalf("a header name with a NUL: exit %d, %s %s", r.Code, r.Stdout, r.Stderr)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE 'Ex␀tra' = ANY(unknown_columns)`); n != 1 {
		t.Errorf("the unknown column is not in the ledger as Ex␀tra")
	}

	// A file that loads nothing, whatever the tries: the ledger says so, and why.
	slow := filepath.Join(dir, "slow.csv")
	os.WriteFile(slow, []byte(salespulse(t, nil, "generate", "--rows", "50", "--seed", "62", "--date", "2024-07-02").Stdout), 0o644)
	r = salespulse(t, append(dbEnv(), "LOAD_TIMEOUT=1ns", "ETL_RETRY_BUDGET=1s"), "load", slow)
	if r.Code != 1 || !strings.HasPrefix(r.Stdout, "failed   "+slow) || !strings.Contains(r.Stdout, "LOAD_TIMEOUT") {
		t.Errorf("a file over LOAD_TIMEOUT: exit %d, %q", r.Code, r.Stdout)
	}
	if rows := ledgerRows(t, slow); len(rows) != 1 || rows[0][0] != etl.StatusFailed || !strings.Contains(rows[0][1], "gave up after") {
		t.Errorf("its ledger rows: %q, want one failed row saying it gave up", rows)
	}

	// Bytes loaded before: a skipped row naming the file they repeat.
	r = salespulse(t, dbEnv(), "load", "--json", nulHeader)
	var again etl.Result
	if err := json.Unmarshal([]byte(r.Stdout), &again); err != nil || again.Status != etl.StatusSkipped ||
		again.Repeats != res.FileID || again.FileID == res.FileID {
		t.Errorf("loading it again: %s", r.Stdout)
	}
	if rows := ledgerRows(t, nulHeader); len(rows) != 2 || rows[1][0] != etl.StatusSkipped {
		t.Errorf("its ledger rows after a second load: %q", rows)
	}
	if v := salespulse(t, dbEnv(), "verify"); v.Code != 0 {
		t.Errorf("verify: %s", v.Stdout)
	}
}

// proxy forwards connections from addr to target once started: until then, nothing listens
// at addr, as when the database is down.
type proxy struct {
	addr, target string
	ln           net.Listener
	wg           sync.WaitGroup
}

func (p *proxy) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.ln = ln
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() {
				defer c.Close()
				u, err := net.Dial("tcp", p.target)
				if err != nil {
					return
				}
				defer u.Close()
				go func() { io.Copy(u, c); u.(*net.TCPConn).CloseWrite() }()
				io.Copy(c, u)
			})
		}
	})
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func status(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestServeAndETLWaitForTheDatabase(t *testing.T) {
	u, err := url.Parse(testDB.URL)
	if err != nil {
		t.Fatal(err)
	}
	db := &proxy{addr: freeAddr(t), target: u.Host}
	u.Host = db.addr
	down := []string{"DATABASE_URL=" + u.String()}

	httpAddr := freeAddr(t)
	serve := bin.Start(t, append(down, "HTTP_ADDR="+httpAddr), "serve")
	base := "http://" + httpAddr
	poll.Until(t, "serve to answer /healthz", 20*time.Second, func() bool { return status(base+"/healthz") == 200 })
	if code := status(base + "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database down: %d, want 503", code)
	}
	etlProc := bin.Start(t, append(down, "BOOTSTRAP_SERVERS="+freeAddr(t)), "etl")
	time.Sleep(2 * time.Second)
	for name, p := range map[string]interface {
		Alive() bool
		Tail() string
	}{"serve": serve, "etl": etlProc} {
		if !p.Alive() {
			t.Fatalf("%s exited with the database down:\n%s", name, p.Tail())
		}
	}
	if !strings.Contains(etlProc.Output(), "will try again") {
		t.Errorf("etl does not say it waits:\n%s", etlProc.Tail())
	}

	db.start(t) // the database comes up
	poll.Until(t, "serve to be ready", time.Minute, func() bool { return status(base+"/readyz") == 200 })
	if err := serve.Stop(30 * time.Second); err != nil {
		t.Errorf("serve: %v\n%s", err, serve.Tail())
	}
	if err := etlProc.Stop(30 * time.Second); err != nil {
		t.Errorf("etl: %v\n%s", err, etlProc.Output())
	}
}
