package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
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
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL(path, q), nil)
	if err != nil {
		return err
	}
	if t := apiToken(); t != "" {
		req.Header.Set("Authorization", "Bearer "+t)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return errUnreachable
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return apiError(res.StatusCode, body)
	}
	return json.Unmarshal(body, v)
}

// apiError turns an error response into an error with the server's message.
func apiError(status int, body []byte) error {
	var e api.ErrorResponse
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		return errors.New(e.Error.Message)
	}
	return fmt.Errorf("the server answered %d %s", status, http.StatusText(status))
}
