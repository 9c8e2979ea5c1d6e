package rule

import (
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/lhk-soc/lhk"
)

// MaxUserName bounds user names in bytes.
const MaxUserName = 128

// CheckUserName returns EINVALID unless name is 1–128 bytes of valid UTF-8
// without spaces, slashes (names appear in audit targets), control characters
// or invisible format characters (which would let "admin\u200b" pass for
// "admin").
func CheckUserName(name string) error {
	if name == "" || len(name) > MaxUserName || !utf8.ValidString(name) {
		return lhk.Errorf(lhk.EINVALID, "user name must be 1-%d bytes of UTF-8", MaxUserName)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) || r == '/' {
			return lhk.Errorf(lhk.EINVALID, "user name %q must not contain spaces, slashes, control or format characters", name)
		}
	}
	return nil
}

// CheckRole returns EINVALID unless r is one of the roles.
func CheckRole(r lhk.Role) error {
	if !r.Valid() {
		return lhk.Errorf(lhk.EINVALID, "role %q: use admin, analyst or viewer", r)
	}
	return nil
}

// CheckCeiling returns EINVALID for unknown capabilities or empty tenants.
func CheckCeiling(c lhk.Ceiling) error {
	return lhk.Grant{Capabilities: c.Capabilities, Tenants: c.Tenants}.Validate()
}

// NormCeiling replaces nil lists with empty ones.
func NormCeiling(c lhk.Ceiling) lhk.Ceiling {
	return lhk.Ceiling{Capabilities: NonNil(c.Capabilities), Tenants: NonNil(c.Tenants)}
}

// CheckTokenHash returns EINVALID for an empty token hash.
func CheckTokenHash(hash string) error {
	if hash == "" {
		return lhk.Errorf(lhk.EINVALID, "empty token hash")
	}
	return nil
}

// CheckNewUser checks a user given to CreateUser with its token hash: a
// user, a valid name, role and ceiling, a token hash (EINVALID otherwise).
func CheckNewUser(u *lhk.User, tokenHash string) error {
	if u == nil {
		return lhk.Errorf(lhk.EINVALID, "no user given")
	}
	if err := CheckUserName(u.Name); err != nil {
		return err
	}
	if err := CheckRole(u.Role); err != nil {
		return err
	}
	if err := CheckCeiling(u.Ceiling); err != nil {
		return err
	}
	return CheckTokenHash(tokenHash)
}

// UserCreateDetail is the detail of the user.create audit entry.
func UserCreateDetail(role lhk.Role, ceiling lhk.Ceiling) map[string]any {
	return map[string]any{"role": role, "ceiling": ceiling}
}

// TokenSetDetail is the detail of the user.token audit entry: that the token
// was replaced, never its hash.
func TokenSetDetail() map[string]any { return map[string]any{"rotated": true} }

// CheckUserUpdate returns EINVALID for an unknown role or a bad ceiling in upd.
func CheckUserUpdate(upd lhk.UserUpdate) error {
	if upd.Role != nil {
		if err := CheckRole(*upd.Role); err != nil {
			return err
		}
	}
	if upd.Ceiling != nil {
		return CheckCeiling(*upd.Ceiling)
	}
	return nil
}

// UpdateUser applies upd, checked by CheckUserUpdate, to u and returns the
// detail of the user.update audit entry: each changed field with its old and
// new value. The detail is empty when nothing changed.
func UpdateUser(u *lhk.User, upd lhk.UserUpdate) map[string]Change {
	detail := map[string]Change{}
	if upd.Role != nil && *upd.Role != u.Role {
		detail["role"] = Change{u.Role, *upd.Role}
		u.Role = *upd.Role
	}
	if upd.Ceiling != nil {
		c := NormCeiling(*upd.Ceiling)
		if !slices.Equal(c.Capabilities, u.Ceiling.Capabilities) || !slices.Equal(c.Tenants, u.Ceiling.Tenants) {
			detail["ceiling"] = Change{u.Ceiling, c}
			u.Ceiling = c
		}
	}
	return detail
}
