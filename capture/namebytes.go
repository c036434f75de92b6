package capture

// NameOfBytes makes a Name of b, lowercased and cut to NameLen, as NameOf
// does of a string.
func NameOfBytes(b []byte) Name {
	var n Name
	n.addBytes(b)
	return n
}
