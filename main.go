//go:build !wasm

// Command salespulse is the sales ETL and KPI dashboard: one binary, one subcommand per role
// (internal/cli). The dashboard's own entry point, compiled to WebAssembly, is ui/wasm.
package main

import (
	"os"

	"salespulse/internal/cli"
)

func main() { os.Exit(cli.Main()) }
