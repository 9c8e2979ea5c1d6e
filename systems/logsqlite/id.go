package logsqlite

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/lhk-soc/lhk"
)

// eventID turns a row number into the event's opaque "_id": the number and
// eight zero bytes, encrypted as one AES block.
func (s *Store) eventID(seq int64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(seq))
	s.idBlock.Encrypt(b[:], b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// eventSeq turns an "_id" back into its row number; ok is false for anything
// this store did not issue.
func (s *Store) eventSeq(id string) (seq int64, ok bool) {
	if len(id) != 22 {
		return 0, false
	}
	var b [16]byte
	if n, err := base64.RawURLEncoding.Decode(b[:], []byte(id)); err != nil || n != 16 {
		return 0, false
	}
	s.idBlock.Decrypt(b[:], b[:])
	for _, c := range b[8:] {
		if c != 0 {
			return 0, false
		}
	}
	return int64(binary.BigEndian.Uint64(b[:8])), true
}

// position is where a page ended: the last event's time and row number.
type position struct {
	ts  int64
	seq int64
}

// fingerprint identifies the request a cursor belongs to: its kind, tenant,
// query or conditions and time range. Limit and filters may change between
// pages.
func fingerprint(kind, tenant string, what any, from, to time.Time) []byte {
	b, _ := json.Marshal(struct {
		K, T string
		W    any
		F, U int64
	}{kind, tenant, what, from.UnixNano(), to.UnixNano()})
	h := sha256.Sum256(b)
	return h[:]
}

// sealCursor returns the opaque cursor for the page after p.
func (s *Store) sealCursor(p position, fp []byte) string {
	var plain [16]byte
	binary.BigEndian.PutUint64(plain[:8], uint64(p.ts))
	binary.BigEndian.PutUint64(plain[8:], uint64(p.seq))
	nonce := make([]byte, s.seal.NonceSize(), s.seal.NonceSize()+len(plain)+s.seal.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(s.seal.Seal(nonce, nonce, plain[:], fp))
}

// openCursor checks and reads a cursor of the request fp.
func (s *Store) openCursor(cursor string, fp []byte) (position, error) {
	bad := lhk.Errorf(lhk.EINVALID, "cursor is not one this search returned: pass next_cursor back unchanged with the same tenant, query and time range")
	if len(cursor) > 128 {
		return position{}, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	ns := s.seal.NonceSize()
	if err != nil || len(b) != ns+16+s.seal.Overhead() {
		return position{}, bad
	}
	plain, err := s.seal.Open(nil, b[:ns], b[ns:], fp)
	if err != nil || len(plain) != 16 {
		return position{}, bad
	}
	return position{ts: int64(binary.BigEndian.Uint64(plain[:8])), seq: int64(binary.BigEndian.Uint64(plain[8:]))}, nil
}
