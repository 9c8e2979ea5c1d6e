package rule

import "github.com/lhk-soc/lhk"

// ValidStatus reports whether s is one of the invocation statuses.
func ValidStatus(s string) bool {
	switch s {
	case lhk.StatusRunning, lhk.StatusOK, lhk.StatusError, lhk.StatusTimeout, lhk.StatusSkipped:
		return true
	}
	return false
}

// CheckInvocations checks records given to PutInvocations: each needs an id,
// a plugin and a known status (EINVALID otherwise). keys, when not nil, adds
// a backend's own check of a record's id and plugin, run once both are known
// to be there and before the status is looked at.
func CheckInvocations(invs []*lhk.Invocation, keys func(id, plugin string) error) error {
	for _, inv := range invs {
		switch {
		case inv == nil:
			return lhk.Errorf(lhk.EINVALID, "nil invocation")
		case inv.ID == "":
			return lhk.Errorf(lhk.EINVALID, "invocation without id")
		case inv.Plugin == "":
			return lhk.Errorf(lhk.EINVALID, "invocation %q without plugin", inv.ID)
		}
		if keys != nil {
			if err := keys(inv.ID, inv.Plugin); err != nil {
				return err
			}
		}
		if !ValidStatus(inv.Status) {
			return lhk.Errorf(lhk.EINVALID, "invocation %q: unknown status %q", inv.ID, inv.Status)
		}
	}
	return nil
}
