package lhk

import (
	"context"
	"time"
)

// WebhookStore keeps each plugin's webhook secret. The secret is an HMAC key the
// daemon must read back to check signatures, so it is stored as it is, unlike
// tokens; it is never logged or shown again after it is set.
type WebhookStore interface {
	// SetWebhookSecret sets or rotates a plugin's webhook secret (audited
	// without the secret).
	SetWebhookSecret(ctx context.Context, plugin, secret string) error
	// WebhookSecret returns a plugin's secret; ENOTFOUND when it has none.
	WebhookSecret(ctx context.Context, plugin string) (string, error)
}

// DeliveryGuard remembers webhook deliveries so that a captured one cannot be
// replayed while its timestamp is still accepted. The registries implement it,
// so a restart does not forget, and a shared one refuses a replay sent to
// another replica too; without one, each lhkd remembers in its own memory.
type DeliveryGuard interface {
	// FirstDelivery records the delivery identified by plugin and signature at
	// now and reports whether it is the first. Records older than keep may be
	// forgotten.
	FirstDelivery(ctx context.Context, plugin, signature string, now time.Time, keep time.Duration) (bool, error)
}
