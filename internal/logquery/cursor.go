package logquery

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lhk-soc/lhk"
)

// KeySize is the length of a store's secret key in bytes.
const KeySize = 32

// Keys turns a store's row numbers into opaque event ids and seals its
// cursors. A store keeps one random key of KeySize bytes for its lifetime
// (in its own database, so every replica of it shares the key).
type Keys struct {
	idBlock cipher.Block // encrypts row numbers into _id
	seal    cipher.AEAD  // seals cursors
}

// NewKey returns a new random key for NewKeys.
func NewKey() ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return key, nil
}

// NewKeys derives the id and cursor ciphers from a store's key.
func NewKeys(key []byte) (*Keys, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("stored key is %d bytes, want %d", len(key), KeySize)
	}
	// Two keys from one: ids and cursors never share a cipher use.
	b, err := aes.NewCipher(key[:16])
	if err != nil {
		return nil, err
	}
	c, err := aes.NewCipher(key[16:])
	if err != nil {
		return nil, err
	}
	seal, err := cipher.NewGCM(c)
	if err != nil {
		return nil, err
	}
	return &Keys{idBlock: b, seal: seal}, nil
}

// EventID turns a row number into the event's opaque "_id": the number and
// eight zero bytes, encrypted as one AES block.
func (k *Keys) EventID(seq int64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(seq))
	k.idBlock.Encrypt(b[:], b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// EventSeq turns an "_id" back into its row number; ok is false for anything
// this store did not issue.
func (k *Keys) EventSeq(id string) (seq int64, ok bool) {
	if len(id) != 22 {
		return 0, false
	}
	var b [16]byte
	if n, err := base64.RawURLEncoding.Decode(b[:], []byte(id)); err != nil || n != 16 {
		return 0, false
	}
	k.idBlock.Decrypt(b[:], b[:])
	for _, c := range b[8:] {
		if c != 0 {
			return 0, false
		}
	}
	return int64(binary.BigEndian.Uint64(b[:8])), true
}

// Position is where a page ended: the last event's time (Unix nanoseconds)
// and row number.
type Position struct {
	TS  int64
	Seq int64
}

// Fingerprint identifies the request a cursor belongs to: its kind, tenant,
// query or conditions and time range. Limit and filters may change between
// pages.
func Fingerprint(kind, tenant string, what any, from, to time.Time) []byte {
	b, _ := json.Marshal(struct {
		K, T string
		W    any
		F, U int64
	}{kind, tenant, what, from.UnixNano(), to.UnixNano()})
	h := sha256.Sum256(b)
	return h[:]
}

// SealCursor returns the opaque cursor for the page after p of the request
// fp.
func (k *Keys) SealCursor(p Position, fp []byte) string {
	var plain [16]byte
	binary.BigEndian.PutUint64(plain[:8], uint64(p.TS))
	binary.BigEndian.PutUint64(plain[8:], uint64(p.Seq))
	nonce := make([]byte, k.seal.NonceSize(), k.seal.NonceSize()+len(plain)+k.seal.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(k.seal.Seal(nonce, nonce, plain[:], fp))
}

// OpenCursor checks and reads a cursor of the request fp: a forged cursor,
// or one of another tenant or request, is EINVALID.
func (k *Keys) OpenCursor(cursor string, fp []byte) (Position, error) {
	bad := lhk.Errorf(lhk.EINVALID, "cursor is not one this search returned: pass next_cursor back unchanged with the same tenant, query and time range")
	if len(cursor) > 128 {
		return Position{}, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	ns := k.seal.NonceSize()
	if err != nil || len(b) != ns+16+k.seal.Overhead() {
		return Position{}, bad
	}
	plain, err := k.seal.Open(nil, b[:ns], b[ns:], fp)
	if err != nil || len(plain) != 16 {
		return Position{}, bad
	}
	return Position{TS: int64(binary.BigEndian.Uint64(plain[:8])), Seq: int64(binary.BigEndian.Uint64(plain[8:]))}, nil
}
