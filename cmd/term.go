package cmd

import (
	"os"
	"strings"
)

// utf8Terminal reports whether the locale asks for UTF-8, the way terminals
// are told: the first of LC_ALL, LC_CTYPE, LANG that is set decides.
func utf8Terminal() bool {
	for _, v := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if s := os.Getenv(v); s != "" {
			s = strings.ToLower(s)
			return strings.Contains(s, "utf-8") || strings.Contains(s, "utf8")
		}
	}
	return false
}
