package host

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lhk-soc/lhk"
)

// TestHostRequestLimit: a request over MaxHostRequestBytes never reaches the
// host function; the plugin gets invalid naming the limit, and the next call
// is served.
func TestHostRequestLimit(t *testing.T) {
	r := newRuntime(t, Options{})
	hc := fixture(t, "hostcall")
	grant := lhk.Grant{Capabilities: []string{lhk.CapKV}, Tenants: []string{"acme"}}
	for _, tt := range []struct {
		name string
		size int // bytes of the string in the request
		want string
	}{
		{"ErrOverLimit", MaxHostRequestBytes, fmt.Sprintf(`"code":"invalid","message":"lhk.test_echo: request of %d bytes is over the limit of %d bytes"`, MaxHostRequestBytes+2, MaxHostRequestBytes)},
		{"OKUnderLimit", 1 << 20, `"data":{"invocation":"inv-1"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := request("hostcall", hc, "run", fmt.Sprintf(`{"fn":"echo","req":%q}`, strings.Repeat("a", tt.size)))
			req.Grant = grant
			req.Limits = lhk.Limits{MaxInputBytes: 16 << 20, MaxOutputBytes: 16 << 20, MemoryMB: 256}
			res := call(t, r, req)
			if !strings.Contains(string(res.Output), tt.want) {
				t.Fatalf("output = %.300s, want it to contain %s", res.Output, tt.want)
			}
		})
	}
}
