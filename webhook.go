package lhk

import "context"

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
