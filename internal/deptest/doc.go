// Package deptest holds no code: its test keeps the stage boundaries
// honest (capture → flows → verdict → report → cmd, one way; gopacket,
// tablewriter and pflag each in their one package).
package deptest
