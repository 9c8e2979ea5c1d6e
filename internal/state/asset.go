package state

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/lhk-soc/lhk"
)

// AssetKey is the lower-cased name assets are keyed and looked up by.
func AssetKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// NewAsset checks an asset given to UpsertAsset and returns a copy with IPs
// in canonical form (unique, in the given order), tags unique and sorted,
// and criticality defaulted. UpdatedAt is left for the store to set.
func NewAsset(a *lhk.Asset) (*lhk.Asset, error) {
	if a == nil {
		return nil, lhk.Errorf(lhk.EINVALID, "asset is required")
	}
	n := &lhk.Asset{
		Tenant: a.Tenant, Name: strings.TrimSpace(a.Name), Owner: a.Owner, OS: a.OS, Criticality: a.Criticality,
		IPs: []string{}, Tags: []string{},
	}
	if err := CheckTenant(n.Tenant); err != nil {
		return nil, err
	}
	switch {
	case n.Name == "":
		return nil, lhk.Errorf(lhk.EINVALID, "asset name is required")
	case len(n.Name) > MaxAssetName:
		return nil, lhk.Errorf(lhk.EINVALID, "asset name is %d bytes, at most %d allowed", len(n.Name), MaxAssetName)
	case !printable(n.Name):
		return nil, lhk.Errorf(lhk.EINVALID, "asset name %q must be printable UTF-8", Short(n.Name))
	}
	if n.Criticality == "" {
		n.Criticality = lhk.SeverityMedium
	}
	if err := checkSeverity("criticality", n.Criticality); err != nil {
		return nil, err
	}
	if err := CheckLabel("owner", n.Owner, MaxName); err != nil {
		return nil, err
	}
	if err := CheckLabel("os", n.OS, MaxTitle); err != nil {
		return nil, err
	}
	if len(a.IPs) > MaxAssetIPs {
		return nil, lhk.Errorf(lhk.EINVALID, "an asset has at most %d IPs, got %d", MaxAssetIPs, len(a.IPs))
	}
	for _, s := range a.IPs {
		ip, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil || ip.Zone() != "" {
			return nil, lhk.Errorf(lhk.EINVALID, "asset IP %q is not an IP address", Short(s))
		}
		if c := ip.Unmap().String(); !slices.Contains(n.IPs, c) {
			n.IPs = append(n.IPs, c)
		}
	}
	if len(a.Tags) > MaxAssetTags {
		return nil, lhk.Errorf(lhk.EINVALID, "an asset has at most %d tags, got %d", MaxAssetTags, len(a.Tags))
	}
	for _, tag := range a.Tags {
		tag = strings.TrimSpace(tag)
		if tag == "" || len(tag) > MaxTag || !printable(tag) {
			return nil, lhk.Errorf(lhk.EINVALID, "tag %q must be 1 to %d printable bytes", Short(tag), MaxTag)
		}
		n.Tags = append(n.Tags, tag)
	}
	slices.Sort(n.Tags)
	n.Tags = slices.Compact(n.Tags)
	return n, nil
}

// AssetIP returns the canonical form of nameOrIP when it is an IP address
// (zone dropped, IPv4-mapped IPv6 unmapped), as asset IPs are stored.
func AssetIP(nameOrIP string) (string, bool) {
	ip, err := netip.ParseAddr(strings.TrimSpace(nameOrIP))
	if err != nil {
		return "", false
	}
	return ip.WithZone("").Unmap().String(), true
}

// AssetNotFound is the error of a lookup that found nothing; byIP says the
// name was an IP address too.
func AssetNotFound(tenant, nameOrIP string, byIP bool) error {
	if byIP {
		return lhk.Errorf(lhk.ENOTFOUND, "no asset named %q or with that IP in tenant %q", Short(nameOrIP), Short(tenant))
	}
	return lhk.Errorf(lhk.ENOTFOUND, "no asset named %q in tenant %q", Short(nameOrIP), Short(tenant))
}

// LookupAsset finds a tenant's asset as lhk.AssetService's LookupAsset
// does, with a store's two queries: byName, by AssetKey(nameOrIP), then,
// when nothing has that name and nameOrIP is an IP address, byIP, by its
// canonical form (AssetIP). Each returns nil and no error when it finds
// nothing; ENOTFOUND (AssetNotFound) when neither finds the asset.
func LookupAsset(tenant, nameOrIP string, byName, byIP func(string) (*lhk.Asset, error)) (*lhk.Asset, error) {
	a, err := byName(AssetKey(nameOrIP))
	if a != nil || err != nil {
		return a, err
	}
	ip, isIP := AssetIP(nameOrIP)
	if !isIP {
		return nil, AssetNotFound(tenant, nameOrIP, false)
	}
	a, err = byIP(ip)
	if a == nil && err == nil {
		return nil, AssetNotFound(tenant, nameOrIP, true)
	}
	return a, err
}

// AssetLists returns the IPs and tags of a as the JSON its store keeps them
// in.
func AssetLists(a *lhk.Asset) (ips, tags string, err error) {
	i, err := json.Marshal(a.IPs)
	if err != nil {
		return "", "", err
	}
	t, err := json.Marshal(a.Tags)
	if err != nil {
		return "", "", err
	}
	return string(i), string(t), nil
}

// ReadAssetLists sets the IPs and tags of a, read from its store, from
// their JSON (AssetLists); they are never nil.
func ReadAssetLists(a *lhk.Asset, ips, tags []byte) error {
	if err := json.Unmarshal(ips, &a.IPs); err != nil {
		return fmt.Errorf("decode IPs of asset %q: %w", a.Name, err)
	}
	if err := json.Unmarshal(tags, &a.Tags); err != nil {
		return fmt.Errorf("decode tags of asset %q: %w", a.Name, err)
	}
	a.IPs, a.Tags = NonNil(a.IPs), NonNil(a.Tags)
	return nil
}
