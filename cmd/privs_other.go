//go:build !unix

package cmd

import "errors"

func dropPrivileges(string) error { return errors.New("not supported on this system") }
