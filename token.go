package lhk

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// TokenPrefix starts every token lhk issues, so leaked tokens are easy to spot
// in code and logs by secret scanners.
const TokenPrefix = "lhk_"

// NewToken returns a fresh bearer token with 256 bits of randomness.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return TokenPrefix + hex.EncodeToString(b)
}

// TokenHash returns the hex SHA-256 of token, the only form in which tokens are
// stored. A plain hash is enough because tokens are long random strings, not
// passwords: there is nothing to guess by brute force.
func TokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}
