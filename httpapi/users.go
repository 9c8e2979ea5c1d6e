package httpapi

import (
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"
	"github.com/lhk-soc/lhk"
)

var userNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

func requireAdmin(c echo.Context) error {
	if !currentUser(c).IsAdmin() {
		return lhk.Errorf(lhk.EFORBIDDEN, "only an admin may do this")
	}
	return nil
}

type createUserRequest struct {
	Name    string       `json:"name"`
	Role    lhk.Role     `json:"role"`
	Ceiling *lhk.Ceiling `json:"ceiling"`
}

type tokenResponse struct {
	Name  string   `json:"name"`
	Role  lhk.Role `json:"role"`
	Token string   `json:"token"`
}

func (s *Server) createUser(c echo.Context) error {
	if err := requireAdmin(c); err != nil {
		return err
	}
	var req createUserRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if !userNameRE.MatchString(req.Name) {
		return lhk.Errorf(lhk.EINVALID, "user name %q: use 1-63 lowercase letters, digits, dots, dashes and underscores", req.Name)
	}
	if !req.Role.Valid() {
		return lhk.Errorf(lhk.EINVALID, "role %q: use admin, analyst or viewer", req.Role)
	}
	u := &lhk.User{Name: req.Name, Role: req.Role}
	if req.Ceiling != nil {
		if err := validateCeiling(*req.Ceiling); err != nil {
			return err
		}
		u.Ceiling = *req.Ceiling
	}
	token := lhk.NewToken()
	if err := s.cfg.Users.CreateUser(ctxOf(c), u, lhk.TokenHash(token)); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, tokenResponse{Name: u.Name, Role: u.Role, Token: token})
}

func validateCeiling(cl lhk.Ceiling) error {
	return lhk.Grant{Capabilities: cl.Capabilities, Tenants: cl.Tenants}.Validate()
}

func (s *Server) listUsers(c echo.Context) error {
	if err := requireAdmin(c); err != nil {
		return err
	}
	us, err := s.cfg.Users.Users(ctxOf(c))
	if err != nil {
		return err
	}
	if us == nil {
		us = []*lhk.User{}
	}
	return c.JSON(http.StatusOK, map[string]any{"users": us})
}

// getUser answers one user to an admin, or to that user.
func (s *Server) getUser(c echo.Context) error {
	name := c.Param("name")
	if u := currentUser(c); u.Role != lhk.RoleAdmin && u.Name != name {
		return lhk.Errorf(lhk.EFORBIDDEN, "only an admin may read another user")
	}
	u, err := s.cfg.Users.User(ctxOf(c), name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

// me answers who the token belongs to; any role may ask.
func (s *Server) me(c echo.Context) error {
	return c.JSON(http.StatusOK, currentUser(c))
}

func (s *Server) patchUser(c echo.Context) error {
	if err := requireAdmin(c); err != nil {
		return err
	}
	var upd lhk.UserUpdate
	if err := bindJSON(c, &upd); err != nil {
		return err
	}
	if upd.Role != nil && !upd.Role.Valid() {
		return lhk.Errorf(lhk.EINVALID, "role %q: use admin, analyst or viewer", *upd.Role)
	}
	if upd.Ceiling != nil {
		if err := validateCeiling(*upd.Ceiling); err != nil {
			return err
		}
	}
	name := c.Param("name")
	if upd.Role != nil && *upd.Role != lhk.RoleAdmin {
		if err := s.keepOneAdmin(c, name); err != nil {
			return err
		}
	}
	u, err := s.cfg.Users.UpdateUser(ctxOf(c), name, upd)
	if err != nil {
		return err
	}
	s.ForgetUsers()
	return c.JSON(http.StatusOK, u)
}

// keepOneAdmin refuses to demote the last admin.
func (s *Server) keepOneAdmin(c echo.Context, name string) error {
	us, err := s.cfg.Users.Users(ctxOf(c))
	if err != nil {
		return err
	}
	admins, target := 0, false
	for _, u := range us {
		if u.Role == lhk.RoleAdmin {
			admins++
			target = target || u.Name == name
		}
	}
	if target && admins == 1 {
		return lhk.Errorf(lhk.ECONFLICT, "%s is the last admin; make another admin first", name)
	}
	return nil
}

func (s *Server) newToken(c echo.Context) error {
	u := currentUser(c)
	name := c.Param("name")
	if !u.IsAdmin() && u.Name != name {
		return lhk.Errorf(lhk.EFORBIDDEN, "only an admin or %s may renew this token", name)
	}
	target, err := s.cfg.Users.User(ctxOf(c), name)
	if err != nil {
		return err
	}
	token := lhk.NewToken()
	if err := s.cfg.Users.SetUserToken(ctxOf(c), name, lhk.TokenHash(token)); err != nil {
		return err
	}
	s.ForgetUsers()
	return c.JSON(http.StatusOK, tokenResponse{Name: name, Role: target.Role, Token: token})
}

func (s *Server) listAudit(c echo.Context) error {
	if err := requireAdmin(c); err != nil {
		return err
	}
	f := lhk.AuditFilter{Actor: c.QueryParam("actor"), Target: c.QueryParam("target")}
	var err error
	if f.Limit, err = intParam(c, "limit", 100, 1000); err != nil {
		return err
	}
	before, err := intParam(c, "before", 0, 1<<62)
	if err != nil {
		return err
	}
	f.Before = int64(before)
	es, err := s.cfg.Audit.AuditEntries(ctxOf(c), f)
	if err != nil {
		return err
	}
	if es == nil {
		es = []*lhk.AuditEntry{}
	}
	return c.JSON(http.StatusOK, map[string]any{"entries": es})
}
