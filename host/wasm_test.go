package host

import "time"

// Bodies of the hand-assembled test modules' run function () -> i32.
var (
	opConst0      = []byte{0x41, 0x00} // i32.const 0
	opUnreachable = []byte{0x00}       // unreachable
)

// wasmModule assembles a module exporting run () -> i32 with the given body,
// and importing each {module, name} as a function () -> i32.
func wasmModule(imports [][2]string, body []byte) []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	section := func(id byte, content []byte) {
		out = append(out, id)
		out = appendULEB(out, uint32(len(content)))
		out = append(out, content...)
	}
	name := func(b []byte, s string) []byte { return append(appendULEB(b, uint32(len(s))), s...) }

	section(1, []byte{0x01, 0x60, 0x00, 0x01, 0x7f}) // one type: () -> i32
	if len(imports) > 0 {
		c := appendULEB(nil, uint32(len(imports)))
		for _, im := range imports {
			c = name(c, im[0])
			c = name(c, im[1])
			c = append(c, 0x00, 0x00) // func of type 0
		}
		section(2, c)
	}
	section(3, []byte{0x01, 0x00}) // one function of type 0
	exp := name([]byte{0x01}, "run")
	exp = append(exp, 0x00)
	exp = appendULEB(exp, uint32(len(imports))) // index after the imports
	section(7, exp)
	code := append([]byte{0x00}, body...) // no locals
	code = append(code, 0x0b)             // end
	fn := appendULEB(nil, uint32(len(code)))
	section(10, append(append([]byte{0x01}, fn...), code...))
	return out
}

func appendULEB(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func timeNowPlus(d time.Duration) time.Time { return time.Now().Add(d) }

// truncateLastSection replaces a module's last section with a code section
// whose one body claims more bytes than it has: the section headers are honest,
// so the module passes precheck and fails in wazero's decoder.
func truncateLastSection(wasm []byte) []byte {
	rest := wasm[8:]
	last := 8
	for len(rest) > 0 {
		size, n, err := uleb32(rest[1:])
		if err != nil {
			return wasm
		}
		last = len(wasm) - len(rest)
		rest = rest[1+n+int(size):]
	}
	body := []byte{0x01, 0x05, 0x00, 0x0b} // one body of 5 bytes, 2 present
	out := append([]byte(nil), wasm[:last]...)
	out = append(out, 10, byte(len(body)))
	return append(out, body...)
}
