// Package plugins holds the plugins the SOC ships with lhk, one main package per
// directory (ioc-extract, …), and the fixtures host tests build in testdata/.
// Build one with:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o ioc-extract.wasm ./ioc-extract
package plugins
