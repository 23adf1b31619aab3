package devices

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteMosquittoACL writes a Mosquitto acl_file that gives every device and
// bridge in service, and relais itself (relaisUser), exactly the ACL the
// embedded broker applies (see topics.go): the same data, in Mosquitto's
// words. Mosquitto's acl_file cannot restrict the retain flag; relais
// ignores retained replies on either broker (see retainedReply).
//
// Run it again after registering, moving or retiring a device or bridge,
// and send Mosquitto SIGHUP to reload it.
func (s *Service) WriteMosquittoACL(ctx context.Context, w io.Writer, relaisUser string) error {
	cs, err := clientsInService(ctx, s.db)
	if err != nil {
		return err
	}
	if why := checkRoot(relaisUser, false, false); !why.Empty() || strings.ContainsAny(relaisUser, " \t") {
		return fmt.Errorf("relais's MQTT username %q cannot name a user in an acl_file", relaisUser)
	}
	users := map[string]string{}
	if err := s.usernames(ctx, users); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# Written by `relais devices acl`: every device and bridge in service reaches\n")
	fmt.Fprintf(bw, "# only its own topics. Written again after each change to the registry;\n")
	fmt.Fprintf(bw, "# reload Mosquitto (SIGHUP) to apply it.\n\n")
	writeACLBlock(bw, "relais itself: commands out, replies and presence in", relaisUser, relaisACL(cs))
	sort.Slice(cs, func(i, j int) bool { return cs[i].ID < cs[j].ID })
	bad := map[string]bool{}
	for _, c := range conflicts(cs) {
		bad[c.ID] = true
	}
	for _, c := range cs {
		if bad[c.ID] {
			// Left out: it must not log in anywhere until it moves (see Check).
			fmt.Fprintf(bw, "# %s %s left out: its address breaks the topic rules (relais devices check)\n\n", kindOf(c), c.ID)
			continue
		}
		what := fmt.Sprintf("%s %s %q, %s at %s", kindOf(c), c.ID, c.Name, c.Protocol, c.Root)
		writeACLBlock(bw, what, users[c.ID], clientACL(c))
	}
	return bw.Flush()
}

func kindOf(c client) string {
	if c.Bridge {
		return "bridge"
	}
	return "device"
}

func writeACLBlock(w io.Writer, comment, user string, a ACL) {
	fmt.Fprintf(w, "# %s\nuser %s\n", comment, user)
	for _, f := range a.Read {
		fmt.Fprintf(w, "topic read %s\n", f)
	}
	for _, f := range a.Write {
		fmt.Fprintf(w, "topic write %s\n", f)
	}
	fmt.Fprintln(w)
}

// usernames fills users with the MQTT username of every client in service.
func (s *Service) usernames(ctx context.Context, users map[string]string) error {
	var rows []struct {
		ID       string
		Username string
	}
	err := s.db.NewRaw(`SELECT id, username FROM devices WHERE retired_at IS NULL AND bridge_id IS NULL
		UNION ALL SELECT id, username FROM bridges WHERE retired_at IS NULL`).Scan(ctx, &rows)
	if err != nil {
		return fmt.Errorf("read MQTT usernames: %w", err)
	}
	for _, r := range rows {
		users[r.ID] = r.Username
	}
	return nil
}

// Conflict is a registry row that breaks the topic rules.
type Conflict struct {
	// ID and Bridge name the device or bridge; SiteID its site.
	ID     string `json:"id"`
	Bridge bool   `json:"bridge"`
	SiteID string `json:"site_id"`
	Name   string `json:"name"`
	// Problem says what is wrong, and With names the other client when two
	// overlap.
	Problem string `json:"problem"`
	With    string `json:"with,omitempty"`
}

// Check lists the devices and bridges in service whose topics break the
// rules: a reserved or malformed address, or topics that overlap another
// client's (both are listed). Only rows registered before the rules existed
// (or moved by the migration that brought bridges) can break them:
// registration refuses such rows. The broker refuses them at login.
func (s *Service) Check(ctx context.Context) ([]Conflict, error) {
	cs, err := clientsInService(ctx, s.db)
	if err != nil {
		return nil, err
	}
	return conflicts(cs), nil
}

// conflicts finds the clients that break the rules, in one pass over a
// tree of topic levels (not every pair: a network has thousands of devices).
func conflicts(cs []client) []Conflict {
	var out []Conflict
	type node struct {
		children map[string]*node
		owner    int // index in cs + 1 of the client whose namespace ends here
		ns       string
	}
	root := &node{children: map[string]*node{}}
	reported := map[[2]int]bool{}
	conflict := func(i, j int, ns string) {
		if reported[[2]int{i, j}] || reported[[2]int{j, i}] {
			return
		}
		reported[[2]int{i, j}] = true
		c, o := cs[i], cs[j]
		p := fmt.Sprintf("its topics overlap at %s", ns)
		out = append(out,
			Conflict{ID: c.ID, Bridge: c.Bridge, SiteID: c.SiteID, Name: c.Name, Problem: p, With: o.ID},
			Conflict{ID: o.ID, Bridge: o.Bridge, SiteID: o.SiteID, Name: o.Name, Problem: p, With: c.ID})
	}
	// firstOwner finds a namespace at or under n.
	var firstOwner func(n *node) (int, string)
	firstOwner = func(n *node) (int, string) {
		if n.owner > 0 {
			return n.owner - 1, n.ns
		}
		for _, ch := range n.children {
			if i, ns := firstOwner(ch); i >= 0 {
				return i, ns
			}
		}
		return -1, ""
	}
	for i, c := range cs {
		if why := rootProblem(c); !why.Empty() {
			// Refused at login, so its topics threaten no one: the others
			// are not in conflict with it.
			out = append(out, Conflict{ID: c.ID, Bridge: c.Bridge, SiteID: c.SiteID, Name: c.Name,
				Problem: fmt.Sprintf("address %q %s", c.Root, why)})
			continue
		}
	namespaces:
		for _, ns := range c.namespaces() {
			n := root
			for _, l := range strings.Split(ns, "/") {
				if n.owner > 0 && n.owner-1 != i {
					conflict(n.owner-1, i, n.ns) // ns lies under another's namespace
					continue namespaces
				}
				ch := n.children[l]
				if ch == nil {
					ch = &node{children: map[string]*node{}}
					n.children[l] = ch
				}
				n = ch
			}
			if j, at := firstOwner(n); j >= 0 && j != i {
				conflict(j, i, at) // another's namespace is ns or lies under it
				continue
			}
			n.owner, n.ns = i+1, ns
		}
	}
	return out
}
