package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"salespulse/etl"
)

func runGenerate(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("generate", "generate --rows N [--seed S] [--date YYYY-MM-DD[..YYYY-MM-DD]] [--shape display|snake] [--out FILE|-]", cfg, stderr)
	rows := fs.Int("rows", 1000, "number of sales rows")
	seed := fs.Uint64("seed", 1, "random seed; the same seed writes the same file")
	date := fs.String("date", "", "sale date, or range FROM..TO (default: today)")
	shape := fs.String("shape", "display", "header shape: display (\"Sale Date\", ...) or snake (sale_date, ...)")
	comments := fs.Bool("comments", false, "include the Customer Comments column")
	invalid := fs.Float64("invalid", 0, "share of rows made to break a rule, 0..1 (shows the reject path)")
	products := fs.Int("products", 0, "size of the catalogue (default: a small world of 25 products)")
	reps := fs.Int("reps", 0, "number of sales representatives (default: 40)")
	out := fs.String("out", "-", "output file, or - for standard output")
	upload := fs.String("upload", "", "put the file into S3 instead: s3://BUCKET/PREFIX/ (a name is made up) or s3://BUCKET/KEY")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &Error{Name: "generate", Reason: "unexpected argument " + fs.Arg(0)}
	}
	from, to, err := parseDateRange(*date)
	if err != nil {
		return &Error{Name: "--date", Reason: err.Error()}
	}
	if *shape != "display" && *shape != "snake" {
		return &Error{Name: "--shape", Reason: "must be display or snake"}
	}
	if *rows < 0 {
		return &Error{Name: "--rows", Reason: "must be ≥ 0"}
	}
	if *products < 0 || *reps < 0 {
		return &Error{Name: "--products", Reason: "--products and --reps must be ≥ 0"}
	}
	if *invalid < 0 || *invalid > 1 {
		return &Error{Name: "--invalid", Reason: "must lie between 0 and 1"}
	}
	opt := etl.GenerateOptions{
		Rows: *rows, Seed: *seed, From: from, To: to,
		Snake: *shape == "snake", Comments: *comments, Invalid: *invalid,
		Products: *products, Reps: *reps,
	}
	if *upload != "" {
		return generateUpload(ctx, cfg, opt, *upload, stderr)
	}
	w := stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		defer f.Close()
		w = f
	}
	st, err := etl.Generate(w, opt)
	if err != nil {
		return err
	}
	if *out != "-" {
		if err := w.(*os.File).Close(); err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		fmt.Fprintf(stderr, "generate: wrote %d rows (%d invalid) to %s\n", st.Rows, st.Invalid, *out)
	}
	return nil
}

// dayOf is the calendar day of t in UTC, as sales are dated: the day the generator and the
// demo take as today.
func dayOf(t time.Time) time.Time {
	return t.UTC().Truncate(24 * time.Hour)
}

// parseDateRange reads "", "YYYY-MM-DD" or "YYYY-MM-DD..YYYY-MM-DD".
func parseDateRange(s string) (time.Time, time.Time, error) {
	if s == "" {
		today := dayOf(time.Now())
		return today, today, nil
	}
	a, b, isRange := strings.Cut(s, "..")
	from, err := time.Parse(time.DateOnly, a)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("%q is not YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD", s)
	}
	if !isRange {
		return from, from, nil
	}
	to, err := time.Parse(time.DateOnly, b)
	if err != nil || to.Before(from) {
		return time.Time{}, time.Time{}, fmt.Errorf("%q is not a date range FROM..TO", s)
	}
	return from, to, nil
}

// generateUpload writes the file to a temporary file, then puts it into the bucket in one
// PutObject (a known length; S3 then notifies once, for the whole object).
func generateUpload(ctx context.Context, cfg Config, opt etl.GenerateOptions, dest string, stderr io.Writer) error {
	bucket, key, err := etl.ParseS3URL(dest)
	if err != nil {
		return &Error{Name: "--upload", Reason: err.Error()}
	}
	if key == "" || strings.HasSuffix(key, "/") {
		name := opt.From.Format(time.DateOnly)
		if !opt.To.Equal(opt.From) {
			name += "_" + opt.To.Format(time.DateOnly)
		}
		key += fmt.Sprintf("sales_%s_seed%d_%d.csv", name, opt.Seed, opt.Rows)
	}
	tmp, err := os.CreateTemp("", "salespulse-*.csv")
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	st, err := etl.Generate(tmp, opt)
	if err != nil {
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	client, err := etl.NewS3Client(ctx, cfg.S3.S3Options)
	if err != nil {
		return err
	}
	_, err = client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &bucket, Key: &key, Body: tmp, ContentType: aws.String("text/csv"),
	})
	if err != nil {
		return fmt.Errorf("generate: put s3://%s/%s: %w", bucket, key, err)
	}
	fmt.Fprintf(stderr, "generate: put %d rows (%d invalid) to s3://%s/%s\n", st.Rows, st.Invalid, bucket, key)
	return nil
}
