// Package report is synpath's last stage: it renders verdicts for people (a
// table, a summary, a footer of what was read) and for scripts (JSON Lines,
// the schema SPEC.md fixes). It renders from its own schema structs, so
// internal types can change without breaking what users parse.
package report
