package cli

import (
	"context"
	"strings"
	"testing"

	"salespulse/etl/devstack"
)

func TestGenerateUploadsAndLoadReadsS3(t *testing.T) {
	testDB.Reset(t)
	st, err := devstack.Start(context.Background(), devstack.Config{S3Addr: "127.0.0.1:0", DisableKafka: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	env := append(dbEnv(), "S3_ENDPOINT="+st.S3Endpoint(), "AWS_ACCESS_KEY_ID=k", "AWS_SECRET_ACCESS_KEY=s")
	up := bin.Run(t, env, "generate", "--rows", "500", "--seed", "9", "--date", "2024-02-02", "--upload", "s3://sales/incoming/")
	const key = "incoming/sales_2024-02-02_seed9_500.csv"
	if up.Code != 0 || !strings.Contains(up.Stderr, "s3://sales/"+key) {
		t.Fatalf("generate --upload: exit %d, %s", up.Code, up.Stderr)
	}
	first := bin.Run(t, env, "load", "--json", "s3://sales/"+key)
	if first.Code != 0 || !strings.Contains(first.Stdout, `"file":"s3://sales/`+key+`"`) ||
		!strings.Contains(first.Stdout, `"status":"loaded","rows_total":500,"rows_loaded":500`) {
		t.Fatalf("load s3://: exit %d, %s %s", first.Code, first.Stdout, first.Stderr)
	}
	again := bin.Run(t, env, "load", "--json", "s3://sales/"+key)
	if again.Code != 0 || !strings.Contains(again.Stdout, `"status":"skipped"`) {
		t.Errorf("second load s3://: %s", again.Stdout)
	}
	missing := bin.Run(t, env, "load", "s3://sales/nope.csv")
	if missing.Code != 1 || !strings.Contains(missing.Stdout, "no longer exists") {
		t.Errorf("a missing object: exit %d, %q", missing.Code, missing.Stdout)
	}
	if bad := bin.Run(t, env, "load", "s3:///key.csv"); bad.Code != 1 || !strings.Contains(bad.Stdout, "not an s3://BUCKET/KEY URL") {
		t.Errorf("a malformed URL: exit %d, %q", bad.Code, bad.Stdout)
	}
}
