//go:build unix

package cmd

import (
	"fmt"
	"os/user"
	"strconv"
	"syscall"
)

// dropPrivileges becomes the named user (and its group) for good, as
// tcpdump -Z does once its capture is open. Go applies it to every thread.
func dropPrivileges(name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("user %s: uid %q gid %q", name, u.Uid, u.Gid)
	}
	if err := syscall.Setgroups([]int{gid}); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("setgid: %w", err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("setuid: %w", err)
	}
	return nil
}
