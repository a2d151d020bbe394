package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// write renders the report.
func (r *run) write(path string) error {
	var b strings.Builder
	met, missed, failed := 0, 0, 0
	for _, o := range r.outcomes {
		for _, res := range o.results {
			if res.Met {
				met++
			} else {
				missed++
			}
		}
		if o.failed() {
			failed++
		}
	}
	b.WriteString("# Performance and fault report\n\n")
	b.WriteString("Written by `make proof` (`go run ./internal/proof/run`), which runs every benchmark and fault test against the real `salespulse` binary, " +
		"the local PostgreSQL and the in-process Kafka and S3, each figure next to a reference measured in the same run. " +
		"Rerun one item with the command under it. Timings depend on the machine being otherwise idle: each item notes the load average around it.\n\n")
	b.WriteString("| | |\n|---|---|\n")
	for _, row := range [][2]string{
		{"date", fmt.Sprintf("%s, %v", r.started.UTC().Format("2006-01-02 15:04:05 UTC"), time.Since(r.started).Round(time.Second))},
		{"CPU", fmt.Sprintf("%s, %d cores", cpuModel(), runtime.NumCPU())},
		{"memory", memTotal()},
		{"OS", osName()},
		{"Go", runtime.Version()},
		{"PostgreSQL", command("psql", "-V")},
		{"commit", command("git", "rev-parse", "--short", "HEAD")},
		{"result", fmt.Sprintf("%d met, %d missed, %d sections failed", met, missed, failed)},
	} {
		fmt.Fprintf(&b, "| %s | %s |\n", row[0], cell(row[1]))
	}
	b.WriteString("\n## Summary\n\n| item | figure | reference (same run) | target | result |\n|---|---|---|---|---|\n")
	for _, o := range r.outcomes {
		if len(o.results) == 0 {
			fmt.Fprintf(&b, "| [%s](#%s) | — | — | — | **failed** |\n", cell(o.title), o.id)
		}
		for _, res := range o.results {
			fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s | %s |\n", cell(res.Item), o.id, cell(res.Figure), cell(res.Reference), cell(res.Target), verdict(o, res.Met))
		}
	}
	b.WriteString("\n## Details\n")
	for _, o := range r.outcomes {
		fmt.Fprintf(&b, "\n<a id=\"%s\"></a>\n### %s\n\n", o.id, o.title)
		if len(o.results) == 0 {
			why := "no result recorded"
			if o.exit != nil {
				why = o.exit.Error()
			}
			fmt.Fprintf(&b, "**Failed:** %s.\n\n", why)
		}
		for _, res := range o.results {
			if len(o.results) > 1 {
				fmt.Fprintf(&b, "#### %s\n\n", res.Item)
			}
			fmt.Fprintf(&b, "- **Done:** %s.\n- **Checked:** %s.\n- **Figure:** %s.\n- **Reference, same run:** %s.\n- **Target:** %s. **Result:** %s.\n",
				res.Done, res.Checked, res.Figure, res.Reference, res.Target, verdict(o, res.Met))
			if res.Note != "" {
				fmt.Fprintf(&b, "- **Note:** %s\n", res.Note)
			}
			if len(res.Table) > 1 {
				b.WriteString("\n")
				for i, row := range res.Table {
					cells := make([]string, len(row))
					for j, c := range row {
						cells[j] = cell(c)
					}
					fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
					if i == 0 {
						fmt.Fprintf(&b, "|%s\n", strings.Repeat("---|", len(row)))
					}
				}
			}
			b.WriteString("\n")
		}
		exit := "0"
		if o.exit != nil {
			exit = o.exit.Error()
		}
		fmt.Fprintf(&b, "- **Conditions:** %v; load average (1, 5, 15 min) %s; exit status %s; whole output `%s`.\n- **Rerun alone:** %s\n",
			o.took, o.loadavg, exit, o.logFile, o.rerun)
		fmt.Fprintf(&b, "\n<details><summary>end of the output</summary>\n\n```\n%s\n```\n</details>\n", o.tail)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func verdict(o outcome, met bool) string {
	switch {
	case o.exit != nil:
		return "**failed**"
	case met:
		return "met"
	}
	return "**missed**"
}

func cell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ") }

func command(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	var kib float64
	fmt.Sscanf(string(b), "MemTotal: %f kB", &kib)
	return fmt.Sprintf("%.1f GiB", kib/(1<<20))
}

func osName() string {
	b, _ := os.ReadFile("/etc/os-release")
	name := "?"
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
			name = strings.Trim(v, `"`)
		}
	}
	return name + ", Linux " + command("uname", "-r")
}
