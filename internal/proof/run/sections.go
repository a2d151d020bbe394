package main

import "time"

// sections are the proof's items, in the order the report lists them. Sizes are the full
// ones unless PROOF_QUICK=1 (each test reads its own settings, see internal/proof.Int).
var sections = []section{
	{id: "load", title: "ETL: `load` against `psql \\copy`, every file shape", pkg: "./internal/bench", test: "^TestLoadMatrix$", limit: 60 * time.Minute},
	{id: "memory", title: "ETL: memory for a large file", pkg: "./internal/bench", test: "^TestLoadMemoryIsFlat$", limit: 30 * time.Minute},
	{id: "gzip", title: "ETL: a gzip-compressed file against the same rows plain", pkg: "./internal/bench", test: "^TestLoadCompressed$", limit: 30 * time.Minute},
	{id: "worker", title: "ETL: worker path against `load`", pkg: "./etl", test: "^TestWorkerThroughput$", limit: 30 * time.Minute},
	{id: "freshness", title: "Freshness: PUT → snapshot on a dashboard", pkg: "./internal/cli", test: "^TestFreshness$", limit: 20 * time.Minute},
	{id: "kpi", title: "KPI snapshots and start at ten million sales", pkg: "./internal/bench", test: "^TestSnapshotsAtScale$", limit: 90 * time.Minute},
	{id: "push", title: "Push to viewers of distinct filters", pkg: "./internal/bench", test: "^TestPushCurve$", limit: 60 * time.Minute},
	{id: "fanout", title: "Fan-out to WebSocket clients", pkg: "./internal/bench", test: "^TestFanout$", limit: 30 * time.Minute},
	{id: "kill", title: "Fault: worker SIGKILLed over a stream of files", pkg: "./internal/faults", test: "^TestProofWorkerKilledOverAStreamOfFiles$", limit: 40 * time.Minute},
	{id: "replay", title: "Fault: topic replayed with a new consumer group", pkg: "./internal/faults", test: "^TestProofReplayFromTheStartChangesNothing$", limit: 20 * time.Minute},
	{id: "abuse", title: "Fault: WebSocket abuse", pkg: "./internal/faults", test: "^TestProofWebSocketAbuse$", limit: 30 * time.Minute},
	{id: "fuzz-csv", title: "Fuzzing: the CSV row reader", pkg: "./etl", fuzz: "FuzzTransform", limit: 15 * time.Minute},
	{id: "fuzz-event", title: "Fuzzing: the event parser", pkg: "./etl/s3event", fuzz: "FuzzParse", limit: 15 * time.Minute},
	{id: "pgrestart", title: "Fault: PostgreSQL restarted mid-load", pkg: "./internal/faults", test: "^TestProofPostgresRestartedMidLoad$",
		env: []string{"PROOF_PG_RESTART=1"}, limit: 20 * time.Minute},
}
