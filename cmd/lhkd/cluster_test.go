package main

import (
	"testing"

	"github.com/lhk-soc/lhk"
)

// TestFollowerForgetsUsers: when another replica changes a user or ends a
// session, this replica drops its cached sign-ins (and touches nothing else).
func TestFollowerForgetsUsers(t *testing.T) {
	forgot := 0
	f := &follower{forgetUsers: func() { forgot++ }}
	f.changed(lhk.UsersChanged) // invoker and scheduler are nil: must not be used
	if forgot != 1 {
		t.Fatalf("cached sign-ins forgotten %d times, want 1", forgot)
	}
}
