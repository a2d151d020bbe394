// Package queries holds the SQL that sqlc compiles into package db, and the DDL of the
// per-load scratch tables, which the loader runs as written here.
package queries

import _ "embed"

// LoadTables creates the temporary tables of one load transaction.
//
//go:embed load_tables.sql
var LoadTables string
