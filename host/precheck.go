package host

import (
	"fmt"

	"github.com/lhk-soc/lhk"
)

// precheck walks a module's section headers before wazero decodes it. wazero
// allocates every vector at the length the module claims, so a 40-byte upload
// claiming four billion imports would exhaust the daemon's memory. Every entry
// of a section's vector takes at least one byte, so a count larger than the
// bytes left in its section is a lie and the module is refused here.
func precheck(wasm []byte) error {
	if len(wasm) < 8 {
		return lhk.Errorf(lhk.EINVALID, "module is malformed: module too short: %d bytes", len(wasm))
	}
	if v := wasm[4:8]; v[0] != 1 || v[1] != 0 || v[2] != 0 || v[3] != 0 {
		return lhk.Errorf(lhk.EINVALID, "module is malformed: unsupported WebAssembly binary version % x (lhk runs version 1 modules)", v)
	}
	rest := wasm[8:]
	for len(rest) > 0 {
		id := rest[0]
		size, n, err := uleb32(rest[1:])
		if err != nil {
			return lhk.Errorf(lhk.EINVALID, "module is malformed: section %d: size: %v", id, err)
		}
		rest = rest[1+n:]
		if uint64(size) > uint64(len(rest)) {
			return lhk.Errorf(lhk.EINVALID, "module is malformed: section %d claims %d bytes but only %d remain", id, size, len(rest))
		}
		body := rest[:size]
		rest = rest[size:]
		switch id {
		case 0: // custom: name, then opaque bytes; the name section is checked by wazero's own bounds
			if err := precheckName(body); err != nil {
				return err
			}
		case 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 13: // vector sections
			count, n, err := uleb32(body)
			if err != nil {
				return lhk.Errorf(lhk.EINVALID, "module is malformed: section %d: count: %v", id, err)
			}
			if uint64(count) > uint64(len(body)-n) {
				return lhk.Errorf(lhk.EINVALID, "module is malformed: section %d claims %d entries in %d bytes", id, count, len(body)-n)
			}
		}
	}
	return nil
}

// precheckName refuses a custom section whose name length overruns it.
func precheckName(body []byte) error {
	l, n, err := uleb32(body)
	if err != nil || uint64(l) > uint64(len(body)-n) {
		return lhk.Errorf(lhk.EINVALID, "module is malformed: custom section with a malformed name")
	}
	return nil
}

// uleb32 decodes an unsigned LEB128 number of at most 32 bits.
func uleb32(b []byte) (v uint32, n int, err error) {
	var shift uint
	for i, c := range b {
		if i == 5 {
			break
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
		shift += 7
	}
	return 0, 0, fmt.Errorf("malformed LEB128 number")
}
