// Package report is synpath's last stage: it renders verdicts for people (a
// sampled table, summaries per server and client, a timeline, a footer of
// what was read, in text or as one HTML page), for scripts (JSON Lines, the
// schema SPEC.md fixes) and for other tools (Wireshark filters, Community
// IDs). A Table keeps counts and the attempts it lists, never every
// verdict. It renders from its own schema structs, so internal types can
// change without breaking what users parse.
package report
