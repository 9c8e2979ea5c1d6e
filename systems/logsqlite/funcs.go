package logsqlite

import (
	"database/sql"
	"database/sql/driver"
	"net/netip"
	"strings"

	"modernc.org/sqlite"

	"github.com/lhk-soc/lhk/internal/logquery"
)

// driverName is the private database/sql driver this package registers: the
// modernc driver with the functions below, which reach no other package's
// connections.
const driverName = "lhk-logsqlite"

func init() {
	d := &sqlite.Driver{}
	d.MustRegisterDeterministicScalarFunction("lhk_cidr", 2, cidrFunc)
	d.MustRegisterDeterministicScalarFunction("lhk_icontains", 2, icontainsFunc)
	sql.Register(driverName, d)
}

// cidrFunc is lhk_cidr(value, prefix): 1 when value is an IP address inside
// prefix (logquery.InCIDR: IPv4 and IPv6; IPv4-mapped IPv6 addresses count
// as IPv4).
func cidrFunc(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	v, ok := args[0].(string)
	p, ok2 := args[1].(string)
	if !ok || !ok2 {
		return int64(0), nil
	}
	pfx, err := netip.ParsePrefix(p)
	if err != nil {
		return int64(0), nil
	}
	if logquery.InCIDR(v, pfx) {
		return int64(1), nil
	}
	return int64(0), nil
}

// icontainsFunc is lhk_icontains(value, needle): 1 when value contains
// needle, ignoring Unicode case. needle is already lower case. (ASCII needles
// use LIKE, which is faster.)
func icontainsFunc(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	n, ok := args[1].(string)
	if !ok {
		return int64(0), nil
	}
	var v string
	switch x := args[0].(type) {
	case string:
		v = x
	case []byte:
		v = string(x)
	default:
		return int64(0), nil
	}
	if strings.Contains(strings.ToLower(v), n) {
		return int64(1), nil
	}
	return int64(0), nil
}
