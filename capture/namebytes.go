package capture

// Bytes is the name as held, without a copy: valid while n is.
func (n *Name) Bytes() []byte { return n.b[:n.n] }

// NameOfBytes makes a Name of b, lowercased and cut to NameLen, as NameOf
// does of a string.
func NameOfBytes(b []byte) Name {
	var n Name
	n.addBytes(b)
	return n
}
