//go:build !wasip1

package pdk

// These fallbacks let plugins and their tests compile outside WebAssembly.

// Input returns the invocation's input. Outside WebAssembly it is empty.
func Input() []byte { return nil }

// Output sets the invocation's output. The last call wins. Outside
// WebAssembly it does nothing.
func Output(b []byte) {}

// Config returns the value of the plugin's configuration key and whether it
// is set. Outside WebAssembly nothing is set.
func Config(key string) (string, bool) { return "", false }

// Var returns the value of an instance variable, or nil when it is not set.
// Vars live as long as the plugin's instance; see the package documentation.
// Outside WebAssembly nothing is set.
func Var(key string) []byte { return nil }

// SetVar sets an instance variable. The daemon caps the total size of an
// instance's vars (1 MiB) and fails the invocation beyond it. Outside
// WebAssembly it does nothing.
func SetVar(key string, value []byte) {}

// DeleteVar removes an instance variable. Outside WebAssembly it does nothing.
func DeleteVar(key string) {}

func setError(msg string) {}

func logMessage(level Level, msg string) {}

// invoke and sendHTTP fail outside WebAssembly. They are variables so that
// tests and the runnable examples can stand in for the daemon.
var (
	invoke   = notWasm
	sendHTTP = notWasmHTTP
)

func notWasm(fn HostFunc, req []byte) ([]byte, error) { return nil, ErrNotWasm }

func notWasmHTTP(req HTTPRequest) (*HTTPResponse, error) { return nil, ErrNotWasm }
