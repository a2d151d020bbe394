//go:build !wasm

package ui_test

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// firefox is a headless Firefox driven over WebDriver BiDi, the protocol Firefox speaks by
// itself (no driver program), for the checks that must hold in a second engine. One
// profile, fresh, per test.
type firefox struct {
	t       *testing.T
	conn    *websocket.Conn
	id      int
	context string // the top-level browsing context
}

// firefoxPath finds the browser: $FIREFOX, else Debian's firefox-esr or firefox.
func firefoxPath(t *testing.T) string {
	if p := os.Getenv("FIREFOX"); p != "" {
		return p
	}
	for _, name := range []string{"firefox-esr", "firefox"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Firefox: install Debian's firefox-esr package (apt-get install firefox-esr) or set FIREFOX")
	return ""
}

func startFirefox(t *testing.T) *firefox {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	profile := t.TempDir()
	cmd := exec.Command(firefoxPath(t), "--headless", "--no-remote", "--profile", profile,
		"--remote-debugging-port", port, "about:blank")
	cmd.Env = append(os.Environ(), "HOME="+profile)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting firefox: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	f := &firefox{t: t}
	deadline := time.Now().Add(30 * time.Second)
	for {
		f.conn, _, err = websocket.DefaultDialer.Dial("ws://127.0.0.1:"+port+"/session", nil)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("firefox's WebDriver BiDi endpoint: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Cleanup(func() { f.conn.Close() })
	f.call("session.new", map[string]any{"capabilities": map[string]any{}})
	var tree struct {
		Contexts []struct{ Context string }
	}
	f.decode(f.call("browsingContext.getTree", map[string]any{}), &tree)
	if len(tree.Contexts) == 0 {
		t.Fatal("firefox has no window")
	}
	f.context = tree.Contexts[0].Context
	return f
}

// call sends one command and returns its result; an error answer fails the test.
func (f *firefox) call(method string, params map[string]any) json.RawMessage {
	f.t.Helper()
	f.id++
	_ = f.conn.SetWriteDeadline(time.Now().Add(60 * time.Second))
	_ = f.conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	if err := f.conn.WriteJSON(map[string]any{"id": f.id, "method": method, "params": params}); err != nil {
		f.t.Fatalf("firefox %s: %v", method, err)
	}
	for {
		var m struct {
			ID      int
			Type    string
			Result  json.RawMessage
			Error   string
			Message string
		}
		if err := f.conn.ReadJSON(&m); err != nil {
			f.t.Fatalf("firefox %s: %v", method, err)
		}
		if m.ID != f.id { // an event
			continue
		}
		if m.Type == "error" {
			f.t.Fatalf("firefox %s: %s: %s", method, m.Error, m.Message)
		}
		return m.Result
	}
}

func (f *firefox) decode(raw json.RawMessage, v any) {
	f.t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		f.t.Fatalf("firefox answer %s: %v", raw, err)
	}
}

func (f *firefox) viewport(w, h int64) {
	f.call("browsingContext.setViewport", map[string]any{"context": f.context, "viewport": map[string]any{"width": w, "height": h}})
}

// open navigates and waits for the load event.
func (f *firefox) open(url string) {
	f.call("browsingContext.navigate", map[string]any{"context": f.context, "url": url, "wait": "complete"})
}

// evalString evaluates JavaScript that yields a string (promises awaited).
func (f *firefox) evalString(js string) string {
	f.t.Helper()
	var r struct {
		Type             string
		Result           struct{ Type, Value any }
		ExceptionDetails struct{ Text string }
	}
	f.decode(f.call("script.evaluate", map[string]any{
		"expression": js, "target": map[string]any{"context": f.context}, "awaitPromise": true,
	}), &r)
	if r.Type == "exception" {
		f.t.Fatalf("firefox: %s: %s", js, r.ExceptionDetails.Text)
	}
	s, _ := r.Result.Value.(string)
	return s
}

// waitJS waits until the expression is truthy.
func (f *firefox) waitJS(what, js string, d time.Duration) {
	f.t.Helper()
	deadline := time.Now().Add(d)
	for f.evalString(`String(!!(`+js+`))`) != "true" {
		if time.Now().After(deadline) {
			f.t.Fatalf("firefox: waiting for %s (%s)", what, js)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// screenshot saves the viewport as test-artifacts/<name>.png.
func (f *firefox) screenshot(name string) {
	f.t.Helper()
	var r struct{ Data string }
	f.decode(f.call("browsingContext.captureScreenshot", map[string]any{"context": f.context}), &r)
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := os.MkdirAll(artifactDir, 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifactDir, name+".png"), png, 0o644); err != nil {
		f.t.Fatal(err)
	}
}
