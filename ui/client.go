package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"salespulse/server/api"
)

// tokenKey is where the browser keeps the API token. A server started with API_TOKEN
// wants it on every request; people get it once, in a link (?token=...).
const tokenKey = "salespulse.token"

// apiToken is the stored API token, "" when none.
func apiToken() string {
	v := app.Window().Get("localStorage").Call("getItem", tokenKey)
	if v.IsNull() || v.IsUndefined() {
		return ""
	}
	return v.String()
}

// rememberToken keeps a token that arrived in the page URL. The pages rewrite their URL
// without it, so it does not stay in the address bar, history or bookmarks.
func rememberToken(u *url.URL) {
	if t := u.Query().Get("token"); t != "" {
		app.Window().Get("localStorage").Call("setItem", tokenKey, t)
	}
}

// errUnreachable is what people read when a request gets no answer at all.
var errUnreachable = errors.New("the server cannot be reached")

// apiURL is an absolute URL of the API on the page's own origin.
func apiURL(path string, q url.Values) string {
	u := app.Window().Get("location").Get("origin").String() + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// getJSON fetches an API resource into v. Errors carry the server's message when it sent
// one ({"error": {...}}), as people read them on the files page.
func getJSON(ctx context.Context, path string, q url.Values, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	status, body, err := fetchText(ctx, "GET", apiURL(path, q), "")
	if err != nil {
		return err
	}
	if status != 200 {
		return apiError(status, body)
	}
	return json.Unmarshal(body, v)
}

// errTimeout is what people read when the server takes too long to answer.
var errTimeout = errors.New("the server did not answer in time")

// fetchText sends a request with the browser's fetch (GET, or a method with a JSON body
// when body is not ""), the API token attached, and waits for the whole answer. It uses fetch rather than net/http, whose client would make app.wasm over a
// third larger (net/http in WebAssembly calls fetch anyway). It must not run on the
// browser's event loop, which the callbacks need.
func fetchText(ctx context.Context, method, u, body string) (status int, answer []byte, err error) {
	if app.IsServer {
		return 0, nil, errUnreachable // pre-rendering: no browser to fetch with
	}
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	finish := func(r result) {
		select {
		case done <- r:
		default: // settled already
		}
	}
	headers := map[string]any{}
	if t := apiToken(); t != "" {
		headers["Authorization"] = "Bearer " + t
	}
	abort := app.Window().Get("AbortController").New()
	failed := app.FuncOf(func(app.Value, []app.Value) any {
		finish(result{err: errUnreachable})
		return nil
	})
	defer failed.Release()
	var code int
	read := app.FuncOf(func(_ app.Value, args []app.Value) any {
		finish(result{status: code, body: args[0].String()})
		return nil
	})
	defer read.Release()
	answered := app.FuncOf(func(_ app.Value, args []app.Value) any {
		code = args[0].Get("status").Int()
		args[0].Call("text").Call("then", read, failed)
		return nil
	})
	defer answered.Release()
	init := map[string]any{"method": method, "headers": headers, "signal": abort.Get("signal")}
	if body != "" {
		headers["Content-Type"] = "application/json"
		init["body"] = body
	}
	app.Window().Call("fetch", u, init).Call("then", answered, failed)
	select {
	case r := <-done:
		return r.status, []byte(r.body), r.err
	case <-ctx.Done():
		abort.Call("abort")
		<-done // the abort settles the promise: the callbacks may be released then
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return 0, nil, errTimeout
		}
		return 0, nil, ctx.Err()
	}
}

// apiError turns an error response into an error with the server's message.
func apiError(status int, body []byte) error {
	var e api.ErrorResponse
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		return errors.New(e.Error.Message)
	}
	return fmt.Errorf("the server answered with status %d", status)
}
