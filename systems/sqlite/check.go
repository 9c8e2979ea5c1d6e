package sqlite

import (
	"github.com/lhk-soc/lhk/internal/check"
	"github.com/lhk-soc/lhk/internal/state"
)

// Size limits of stored fields, in bytes unless said otherwise (packages
// state and check, shared with the PostgreSQL backend).
const (
	MaxTenant      = check.MaxTenant      // tenant names
	MaxName        = state.MaxName        // filter names (characters), owners, authors, assignees, plugins
	MaxAssetName   = state.MaxAssetName   // host names
	MaxTitle       = state.MaxTitle       // ticket and report titles
	MaxDescription = state.MaxDescription // ticket descriptions, comment bodies, filter reasons
	MaxObservable  = state.MaxObservable  // one observable's value
	MaxExternalKey = state.MaxExternalKey // a ticket's external key
	MaxEventID     = state.MaxEventID     // one linked event id
	MaxMarkdown    = state.MaxMarkdown    // a report's Markdown
	MaxNamespace   = state.MaxNamespace   // a kv namespace

	MaxTicketEvents      = state.MaxTicketEvents      // linked events of one ticket
	MaxTicketObservables = state.MaxTicketObservables // observables of one ticket
	MaxTicketComments    = state.MaxTicketComments    // comments on one ticket
	MaxAssetIPs          = state.MaxAssetIPs          // IPs of one asset
	MaxAssetTags         = state.MaxAssetTags         // tags of one asset
	MaxTag               = state.MaxTag               // one tag
)

// Listing limits. A zero limit takes the default, a larger one the maximum;
// a negative limit is EINVALID.
const (
	DefaultTicketLimit = state.DefaultTicketLimit
	MaxTicketLimit     = state.MaxTicketLimit
	DefaultReportLimit = state.DefaultReportLimit
	MaxReportLimit     = state.MaxReportLimit
	DefaultKVLimit     = state.DefaultKVLimit
	MaxKVLimit         = state.MaxKVLimit
)

// Id prefixes: a ticket or report id is the prefix and a ULID. Ids are
// opaque: callers must not parse them.
const (
	TicketIDPrefix = state.TicketIDPrefix
	ReportIDPrefix = state.ReportIDPrefix
)

// MaxField is the longest field name of a filter condition, in bytes.
const MaxField = state.MaxField
