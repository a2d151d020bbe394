package cli

// Settings are read from the environment and an optional .env file into one struct.
// Commands override fields with their flags and then ask for what they need with the
// Require methods, so a missing setting is reported by the command that needs it.

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/joho/godotenv"

	"salespulse/etl"
	"salespulse/etl/devstack"
)

// Config holds every setting of every command.
type Config struct {
	Database Database
	S3       S3
	Kafka    Kafka
	HTTP     HTTP
	ETL      ETL
	Demo     Demo
	LogLevel slog.Level // LOG_LEVEL: debug, info, warn or error
}

// Demo shapes `salespulse demo` (DEMO_* settings; its flags override them).
type Demo struct {
	Parts     string        // DEMO_PARTS: what to run, comma-separated
	KafkaAddr string        // DEMO_KAFKA_ADDR: the in-process Kafka's address
	S3Addr    string        // DEMO_S3_ADDR: the in-process S3's address
	S3Dir     string        // DEMO_S3_DIR: keep the in-process S3's objects there (default: memory)
	Interval  time.Duration // DEMO_INTERVAL: between generated files
	Rows      int           // DEMO_ROWS: sales per generated file
	Invalid   float64       // DEMO_INVALID: share of generated rows that break a rule
	Backfill  int           // DEMO_BACKFILL: days before today generated at start
}

// Database is where sales and the ledger live.
type Database struct {
	URL string // DATABASE_URL, or composed from the POSTGRES_* parts
}

// S3 is the store and the bucket files land in.
type S3 struct {
	etl.S3Options
	Bucket string
}

// Kafka carries the object-created events.
type Kafka struct {
	etl.KafkaOptions
	Brokers []string
	Topic   string
	Group   string
}

// HTTP is the dashboard server.
type HTTP struct {
	Addr     string
	APIToken string
	// AllowedOrigins are the browser origins, besides the server's own, that may open the
	// WebSocket and call the API (ALLOWED_ORIGINS, comma-separated; "*" for any).
	AllowedOrigins []string
	// AllowedHosts are the names, besides IP addresses and loopback names, the server
	// answers to in the Host header (ALLOWED_HOSTS, comma-separated; "*" for any).
	AllowedHosts []string
	// UploadMaxBytes bounds a file sent to POST /api/uploads (UPLOAD_MAX_BYTES).
	UploadMaxBytes int64
	// UploadTimeout bounds the time an upload's body may take (UPLOAD_TIMEOUT).
	UploadTimeout time.Duration
	// UploadConcurrency is how many uploads are received at once (UPLOAD_CONCURRENCY).
	UploadConcurrency int
	// MaxClients bounds the WebSocket connections (WS_MAX_CLIENTS).
	MaxClients int
	// AlertInterval is how often alert rules are evaluated besides after each file
	// (ALERT_INTERVAL).
	AlertInterval time.Duration
}

// ETL tunes loading and the worker.
type ETL struct {
	MaxRejectRatio float64 // a file with more rejected rows than this share fails whole
	Timeout        time.Duration
	KeyPrefix      string        // the worker loads only keys with this prefix...
	KeySuffixes    []string      // ...and one of these suffixes
	Parallel       int           // files loaded at a time by one worker
	Grace          time.Duration // at shutdown, how long the file in flight may finish
	WatchInterval  time.Duration // how often `watch` lists the bucket
	// RetryBudget is how long one file may be tried again for failures of its own before it
	// fails and goes to the dead letters (ETL_RETRY_BUDGET).
	RetryBudget time.Duration
}

// Error names the setting at fault; its message is the one line a command prints.
type Error struct {
	Name   string
	Reason string
}

func (e *Error) Error() string { return e.Name + ": " + e.Reason }

// Load reads the process environment over the .env file in the working directory, if any.
func Load() (Config, error) {
	file, err := godotenv.Read(".env")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Config{}, &Error{Name: ".env", Reason: err.Error()}
	}
	return FromLookup(func(name string) (string, bool) {
		if v, ok := os.LookupEnv(name); ok {
			return v, true
		}
		v, ok := file[name]
		return v, ok
	})
}

// FromLookup builds a Config from any source of variables (the environment, a map in tests).
func FromLookup(lookup func(string) (string, bool)) (Config, error) {
	get := func(name, def string) string {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	var c Config
	var err error
	if c.Database.URL, err = databaseURL(get); err != nil {
		return Config{}, err
	}
	c.S3 = S3{S3Options: etl.S3Options{
		AccessKeyID:     get("AWS_ACCESS_KEY_ID", ""),
		SecretAccessKey: get("AWS_SECRET_ACCESS_KEY", ""),
		Region:          get("AWS_REGION", "us-east-1"),
		Endpoint:        get("S3_ENDPOINT", ""),
	}, Bucket: get("BUCKET_NAME", "")}
	if c.S3.Endpoint != "" {
		if err := checkURL("S3_ENDPOINT", c.S3.Endpoint); err != nil {
			return Config{}, err
		}
	}
	c.Kafka = Kafka{
		Brokers: splitList(get("BOOTSTRAP_SERVERS", "")),
		Topic:   get("KAFKA_TOPIC", "sales.files"),
		Group:   get("KAFKA_GROUP", "salespulse-etl"),
		KafkaOptions: etl.KafkaOptions{
			ClientID:      get("CLIENT_ID", "salespulse"),
			SASLUsername:  get("SASL_USERNAME", ""),
			SASLPassword:  get("SASL_PASSWORD", ""),
			SASLMechanism: strings.ToUpper(get("SASL_MECHANISM", "PLAIN")),
		},
	}
	switch c.Kafka.SASLMechanism {
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
	default:
		return Config{}, &Error{Name: "SASL_MECHANISM", Reason: "must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"}
	}
	if c.Kafka.TLS, err = parseBool("KAFKA_TLS", get("KAFKA_TLS", "false")); err != nil {
		return Config{}, err
	}
	if path := get("KAFKA_TLS_CA", ""); path != "" {
		pem, err := os.ReadFile(path)
		if err != nil {
			return Config{}, &Error{Name: "KAFKA_TLS_CA", Reason: "cannot read " + path}
		}
		if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			return Config{}, &Error{Name: "KAFKA_TLS_CA", Reason: path + " holds no PEM certificate"}
		}
		c.Kafka.TLSCA, c.Kafka.TLS = pem, true
	}
	if c.Kafka.SessionTimeout, err = parseDuration("KAFKA_SESSION_TIMEOUT", get("KAFKA_SESSION_TIMEOUT", "10s")); err != nil {
		return Config{}, err
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL", "info"))); err != nil {
		return Config{}, &Error{Name: "LOG_LEVEL", Reason: "must be debug, info, warn or error"}
	}
	c.HTTP = HTTP{Addr: get("HTTP_ADDR", ":8080"), APIToken: get("API_TOKEN", ""),
		AllowedOrigins: splitList(get("ALLOWED_ORIGINS", "")), AllowedHosts: splitList(get("ALLOWED_HOSTS", ""))}
	if c.HTTP.UploadMaxBytes, err = ParseSize(get("UPLOAD_MAX_BYTES", "100MiB")); err != nil {
		return Config{}, &Error{Name: "UPLOAD_MAX_BYTES", Reason: err.Error()}
	}
	if c.HTTP.UploadTimeout, err = parseDuration("UPLOAD_TIMEOUT", get("UPLOAD_TIMEOUT", "10m")); err != nil {
		return Config{}, err
	}
	if c.HTTP.UploadConcurrency, err = parseCount("UPLOAD_CONCURRENCY", get("UPLOAD_CONCURRENCY", "4")); err != nil {
		return Config{}, err
	}
	if c.HTTP.MaxClients, err = parseCount("WS_MAX_CLIENTS", get("WS_MAX_CLIENTS", "20000")); err != nil {
		return Config{}, err
	}
	if c.HTTP.AlertInterval, err = parseDuration("ALERT_INTERVAL", get("ALERT_INTERVAL", "1m")); err != nil {
		return Config{}, err
	}
	if c.ETL.MaxRejectRatio, err = ParseRatio(get("MAX_REJECT_RATIO", "50%")); err != nil {
		return Config{}, &Error{Name: "MAX_REJECT_RATIO", Reason: err.Error()}
	}
	if c.ETL.Timeout, err = parseDuration("LOAD_TIMEOUT", get("LOAD_TIMEOUT", "30m")); err != nil {
		return Config{}, err
	}
	if c.ETL.Grace, err = parseDuration("ETL_SHUTDOWN_GRACE", get("ETL_SHUTDOWN_GRACE", "30s")); err != nil {
		return Config{}, err
	}
	if c.ETL.WatchInterval, err = parseDuration("WATCH_INTERVAL", get("WATCH_INTERVAL", "30s")); err != nil {
		return Config{}, err
	}
	if c.ETL.RetryBudget, err = parseDuration("ETL_RETRY_BUDGET", get("ETL_RETRY_BUDGET", "1m")); err != nil {
		return Config{}, err
	}
	if c.Demo, err = demoSettings(get); err != nil {
		return Config{}, err
	}
	c.ETL.KeyPrefix = get("ETL_KEY_PREFIX", "")
	c.ETL.KeySuffixes = splitList(get("ETL_KEY_SUFFIX", ".csv,.csv.gz,.csv.zst"))
	if c.ETL.Parallel, err = parseCount("ETL_PARALLEL", get("ETL_PARALLEL", "2")); err != nil {
		return Config{}, err
	}
	return c, nil
}

// suffixFlag sets a list of key suffixes from a comma-separated flag.
func suffixFlag(to *[]string) func(string) error {
	return func(s string) error {
		if *to = splitList(s); len(*to) == 0 {
			return errors.New("names no suffix")
		}
		return nil
	}
}

// demoSettings reads the DEMO_* settings.
func demoSettings(get func(string, string) string) (Demo, error) {
	d := Demo{
		Parts:     get("DEMO_PARTS", strings.Join(demoParts, ",")),
		KafkaAddr: get("DEMO_KAFKA_ADDR", devstack.DefaultKafkaAddr),
		S3Addr:    get("DEMO_S3_ADDR", devstack.DefaultS3Addr),
		S3Dir:     get("DEMO_S3_DIR", ""),
	}
	var err error
	if _, err = parseParts(d.Parts); err != nil {
		return Demo{}, &Error{Name: "DEMO_PARTS", Reason: err.(*Error).Reason}
	}
	if d.Interval, err = parseDuration("DEMO_INTERVAL", get("DEMO_INTERVAL", "5s")); err != nil {
		return Demo{}, err
	}
	if d.Rows, err = parseCount("DEMO_ROWS", get("DEMO_ROWS", "2000")); err != nil {
		return Demo{}, err
	}
	if d.Invalid, err = ParseRatio(get("DEMO_INVALID", "0.02")); err != nil {
		return Demo{}, &Error{Name: "DEMO_INVALID", Reason: err.Error()}
	}
	if d.Backfill, err = strconv.Atoi(get("DEMO_BACKFILL", "14")); err != nil || d.Backfill < 0 {
		return Demo{}, &Error{Name: "DEMO_BACKFILL", Reason: "must be a whole number ≥ 0"}
	}
	return d, nil
}

// databaseURL prefers DATABASE_URL and otherwise composes one from the POSTGRES_* parts.
func databaseURL(get func(string, string) string) (string, error) {
	if u := get("DATABASE_URL", ""); u != "" {
		if _, err := pgxpool.ParseConfig(u); err != nil {
			// The parser's message may quote the URL, password included: keep it out.
			return "", &Error{Name: "DATABASE_URL", Reason: "malformed connection string"}
		}
		return u, nil
	}
	host := get("POSTGRES_HOST", "")
	if host == "" {
		return "", nil
	}
	user := get("POSTGRES_USER", "")
	if user == "" {
		return "", &Error{Name: "POSTGRES_USER", Reason: "is not set (POSTGRES_HOST is)"}
	}
	port := get("POSTGRES_PORT", "5432")
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", &Error{Name: "POSTGRES_PORT", Reason: "must be a port number"}
	}
	u := url.URL{
		Scheme: "postgres",
		Host:   host + ":" + port,
		Path:   "/" + get("POSTGRES_DB", user),
	}
	if pw := get("POSTGRES_PASSWORD", ""); pw != "" {
		u.User = url.UserPassword(user, pw)
	} else {
		u.User = url.User(user)
	}
	return u.String(), nil
}

// RequireDatabase reports a missing database setting.
func (c Config) RequireDatabase() error {
	if c.Database.URL == "" {
		return &Error{Name: "DATABASE_URL", Reason: "is not set (nor POSTGRES_HOST)"}
	}
	return nil
}

// RequireS3 reports a missing bucket setting.
func (c Config) RequireS3() error {
	if c.S3.Bucket == "" {
		return &Error{Name: "BUCKET_NAME", Reason: "is not set"}
	}
	return nil
}

// RequireKafka reports a missing broker setting.
func (c Config) RequireKafka() error {
	if len(c.Kafka.Brokers) == 0 {
		return &Error{Name: "BOOTSTRAP_SERVERS", Reason: "is not set"}
	}
	if c.Kafka.SASLUsername != "" && c.Kafka.SASLPassword == "" {
		return &Error{Name: "SASL_PASSWORD", Reason: "is not set (SASL_USERNAME is)"}
	}
	return nil
}

// ParseRatio reads a share as "0.5" or "50%"; it must lie in [0, 1].
func ParseRatio(s string) (float64, error) {
	s = strings.TrimSpace(s)
	div := 1.0
	if strings.HasSuffix(s, "%") {
		s, div = strings.TrimSpace(strings.TrimSuffix(s, "%")), 100
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v/div < 0 || v/div > 1 {
		return 0, fmt.Errorf("must be a share between 0 and 1 or a percentage such as 50%%")
	}
	return v / div, nil
}

// ParseSize reads a positive number of bytes: 1048576, or with a unit: 512KiB, 100MiB, 1GiB
// (KB, MB and GB are read as the same powers of two).
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(strings.ToUpper(s), strings.ToUpper(u.suffix)) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, errors.New("must be a positive size such as 104857600 or 100MiB")
	}
	return n * mult, nil
}

func parseDuration(name, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, &Error{Name: name, Reason: "must be a positive duration such as 30s or 5m"}
	}
	return d, nil
}

func parseCount(name, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, &Error{Name: name, Reason: "must be a whole number ≥ 1"}
	}
	return n, nil
}

func parseBool(name, s string) (bool, error) {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return false, &Error{Name: name, Reason: "must be true or false"}
	}
	return v, nil
}

func checkURL(name, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &Error{Name: name, Reason: "must be an http:// or https:// URL"}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
