// Package pdkparity holds a test only: the Go PDK mirrors the daemon's
// request and response types (it must not import the daemon's module), and
// the test fails when a mirrored type's JSON drifts from the original.
package pdkparity
