// Package queries holds the SQL that sqlc compiles into package db, and the statements run as
// written here: the DDL of the per-load scratch table, and the KPI engine's streamed read.
package queries

import _ "embed"

// LoadTables creates the temporary table of one load transaction.
//
//go:embed load_tables.sql
var LoadTables string

// EngineSales selects what the KPI engine counts of each sale (a WHERE clause may follow).
//
//go:embed engine_sales.sql
var EngineSales string
