package state

import (
	"unicode/utf8"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/check"
)

// CheckNamespace validates a kv namespace: 1–MaxNamespace printable bytes.
func CheckNamespace(ns string) error {
	if ns == "" || len(ns) > MaxNamespace || !printable(ns) {
		return lhk.Errorf(lhk.EINVALID, "kv namespace %q must be 1 to %d printable bytes", Short(ns), MaxNamespace)
	}
	return nil
}

// CheckKey validates a kv namespace and key: the key 1–lhk.MaxKVKey bytes
// of UTF-8 without NUL.
func CheckKey(ns, key string) error {
	if err := CheckNamespace(ns); err != nil {
		return err
	}
	switch {
	case key == "":
		return lhk.Errorf(lhk.EINVALID, "kv key is required")
	case len(key) > lhk.MaxKVKey:
		return lhk.Errorf(lhk.EINVALID, "kv key is %d bytes, at most %d allowed", len(key), lhk.MaxKVKey)
	case !utf8.ValidString(key):
		return lhk.Errorf(lhk.EINVALID, "kv key must be valid UTF-8")
	}
	for i := 0; i < len(key); i++ {
		if key[i] == 0 {
			return lhk.Errorf(lhk.EINVALID, "kv key must not contain NUL bytes")
		}
	}
	return nil
}

// CheckSet validates the arguments of a kv Set: the namespace and key
// (CheckKey), then the value, at most lhk.MaxKVValue bytes of any kind.
func CheckSet(ns, key, value string) error {
	if err := CheckKey(ns, key); err != nil {
		return err
	}
	if len(value) > lhk.MaxKVValue {
		return lhk.Errorf(lhk.EINVALID, "kv value is %d bytes, at most %d allowed", len(value), lhk.MaxKVValue)
	}
	return nil
}

// CheckList validates the arguments of a kv listing and returns its limit
// (DefaultKVLimit when zero, capped at MaxKVLimit).
func CheckList(ns, prefix, after string, limit int) (int, error) {
	if err := CheckNamespace(ns); err != nil {
		return 0, err
	}
	limit, err := check.Limit(limit, DefaultKVLimit, MaxKVLimit)
	if err != nil {
		return 0, err
	}
	for _, f := range []struct{ name, v string }{{"prefix", prefix}, {"after", after}} {
		if len(f.v) > lhk.MaxKVKey || !utf8.ValidString(f.v) {
			return 0, lhk.Errorf(lhk.EINVALID, "kv %s must be valid UTF-8 of at most %d bytes", f.name, lhk.MaxKVKey)
		}
	}
	return limit, nil
}

// KeyNotFound is the error for an absent kv key.
func KeyNotFound(key string) error {
	return lhk.Errorf(lhk.ENOTFOUND, "kv key %q not found", Short(key))
}
