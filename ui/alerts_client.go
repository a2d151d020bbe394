package ui

import (
	"context"
	"encoding/json"
	"time"
)

// sendJSON sends a change to the API (POST, PUT, DELETE) with body as JSON (nil: none) and
// decodes the answer into v (nil: ignored). Errors carry the server's message.
func sendJSON(ctx context.Context, method, path string, body, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	payload := ""
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		payload = string(b)
	}
	status, answer, err := fetchText(ctx, method, apiURL(path, nil), payload)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return apiError(status, answer)
	}
	if v == nil || len(answer) == 0 {
		return nil
	}
	return json.Unmarshal(answer, v)
}
