package server

import "testing"

func TestCORS(t *testing.T) {
	srv := startServer(t, Config{AllowedOrigins: []string{"https://dash.example.com"}})
	req, _ := newRequest("OPTIONS", srv.URL()+"/api/uploads", map[string]string{
		"Origin": "https://dash.example.com", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"})
	resp := send(t, req)
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://dash.example.com" ||
		resp.Header.Get("Access-Control-Allow-Headers") == "" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	req, _ = newRequest("GET", srv.URL()+"/api/kpis", map[string]string{"Origin": "https://evil.example.com"})
	if resp := send(t, req); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a foreign origin was allowed: %v", resp.Header)
	}
}
