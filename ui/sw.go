//go:build !wasm

package ui

import (
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// swFetch replaces the fetch handling of go-app's service worker, which answers every
// request from the cache by exact URL, else from the network. For a dashboard that is
// wrong in three ways:
//   - /?range=7d and /files?file=3 are the cached shell with a query, not new pages: pages
//     are matched without their query, and any page falls back to the cached "/" offline
//     (the WebAssembly routes by itself), so a bookmarked view opens without a network;
//   - the API must never come from a cache: offline figures come from the app's own
//     snapshot store, which knows and shows how old they are;
//   - uploads (POST) must not pass through the worker, which would hide their progress.
const swFetch = `self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin ||
      url.pathname.startsWith("/api/") || url.pathname === "/ws" ||
      url.pathname === "/healthz" || url.pathname === "/readyz" || url.pathname === "/metrics") {
    return; // the browser's own handling
  }
  event.respondWith(fetchWithCache(request));
});

async function fetchWithCache(request) {
  const navigate = request.mode === "navigate";
  const cachedResponse = await caches.match(request, { ignoreSearch: navigate });
  if (cachedResponse) {
    return cachedResponse;
  }
  try {
    return await fetch(request);
  } catch (err) {
    if (navigate) {
      const shell = await caches.match("/");
      if (shell) {
        return shell;
      }
    }
    throw err;
  }
}
`

// serviceWorker is go-app's worker template with swFetch in place of its fetch handling.
// Should a go-app update reshape the template, the default is kept (and TestServiceWorker
// fails), rather than a broken worker being served.
func serviceWorker() string {
	t := app.DefaultAppWorkerJS
	start := strings.Index(t, `self.addEventListener("fetch"`)
	end := strings.Index(t, "// -----------------------------------------------------------------------------\n// Push Notifications")
	if start < 0 || end < start {
		return t
	}
	return t[:start] + swFetch + "\n" + t[end:]
}
