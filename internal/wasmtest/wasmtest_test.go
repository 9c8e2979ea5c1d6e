package wasmtest

import (
	"bytes"
	"testing"
)

var wasmMagic = []byte("\x00asm")

func TestBuild(t *testing.T) {
	a := Build(t, "plugins/testdata/noop")
	if !bytes.HasPrefix(a, wasmMagic) {
		t.Fatalf("Build returned %d bytes without the wasm magic", len(a))
	}
	b := Build(t, "plugins/testdata/noop/") // cached, same sources
	if !bytes.Equal(a, b) {
		t.Fatal("second Build of the same sources returned different bytes")
	}
}

func TestBuildFails(t *testing.T) {
	ft := &fakeTB{TB: t}
	func() {
		defer func() { _ = recover() }()
		Build(ft, "pdk")
	}()
	if !ft.failed {
		t.Fatal("Build of a dir outside plugins/ did not fail")
	}
}

func TestSDKWasm(t *testing.T) {
	b := SDKWasm(t, "count_vowels.wasm")
	if !bytes.HasPrefix(b, wasmMagic) {
		t.Fatalf("SDKWasm returned %d bytes without the wasm magic", len(b))
	}
}

// fakeTB records Fatalf and stops the calling function with a panic.
type fakeTB struct {
	testing.TB
	failed bool
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = true
	panic("fatal")
}
