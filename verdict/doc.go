// Package verdict is synpath's third stage: it judges connection attempts
// from flows and says, in SPEC.md's words, what the client's connect()
// experienced and where the handshake died.
//
// Judging is pure: [Judge] looks at one attempt as one capture saw it, from
// the vantage it was taken at, and returns a [Result]; it keeps no state
// between attempts, so verdicts can be streamed as attempts are handed on.
package verdict
