//go:build libpcap

package cmd

// withLibpcap: the live source is libpcap, which takes one interface.
const withLibpcap = true
