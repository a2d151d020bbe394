package cli

import (
	"io"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// hidden stands for a secret in anything a command prints about its settings.
const hidden = "****"

// secrets are the settings' values that must never be printed: flag defaults come from the
// environment, so a usage text would otherwise show the API token or the database password.
func (c Config) secrets() []string {
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s)
		}
	}
	add(c.HTTP.APIToken)
	add(c.Kafka.SASLPassword)
	add(c.S3.SecretAccessKey)
	if c.Database.URL != "" {
		if pc, err := pgxpool.ParseConfig(c.Database.URL); err == nil {
			add(pc.ConnConfig.Password)
		}
		if u, err := url.Parse(c.Database.URL); err == nil && u.User != nil {
			// As written in the URL, percent-encoded.
			if _, pw, ok := strings.Cut(u.User.String(), ":"); ok {
				add(pw)
			}
		}
	}
	return out
}

// redacting writes through to w with every secret replaced by hidden.
type redacting struct {
	w       io.Writer
	secrets []string
}

func (r redacting) Write(p []byte) (int, error) {
	s := string(p)
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, hidden)
	}
	if _, err := io.WriteString(r.w, s); err != nil {
		return 0, err
	}
	return len(p), nil
}
