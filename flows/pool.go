package flows

// reuse takes the last of a free list, or nil: the tracker recycles its
// records (attempts, tombs, lookups, answers) rather than leave each to the
// garbage collector.
func reuse[T any](free *[]*T) *T {
	n := len(*free)
	if n == 0 {
		return nil
	}
	x := (*free)[n-1]
	*free = (*free)[:n-1]
	return x
}
