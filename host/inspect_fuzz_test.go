package host

import (
	"context"
	"testing"

	"github.com/lhk-soc/lhk"
)

// FuzzInspect feeds arbitrary bytes to Inspect, as an upload would: it must never
// panic, and every refusal must be an invalid-input error with a message.
func FuzzInspect(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x00asm"))
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add(wasmModule(nil, opConst0))
	f.Add(wasmModule(nil, opUnreachable))
	f.Add(wasmModule([][2]string{{"lhk", "nope"}}, opConst0))
	f.Add(wasmModule([][2]string{{"env", "abort"}}, opConst0))
	f.Add(wasmModule([][2]string{{"extism:host/env", "input_length"}}, opConst0))
	r := newRuntime(f, Options{})
	f.Fuzz(func(t *testing.T, wasm []byte) {
		m, err := r.Inspect(context.Background(), wasm)
		if err != nil {
			if code := lhk.ErrorCode(err); code != lhk.EINVALID {
				t.Fatalf("Inspect error code %q, want invalid: %v", code, err)
			}
			if lhk.ErrorMessage(err) == "" {
				t.Fatal("Inspect error without a message")
			}
			return
		}
		if len(m.SHA256) != 64 {
			t.Fatalf("accepted module without a sha256: %+v", m)
		}
	})
}
