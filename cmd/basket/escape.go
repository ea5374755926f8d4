package main

import "fmt"

// unescape is the byte the backslash escape \c of a consume or produce
// -f format string stands for: \n, \r, \t or \\.
func unescape(c byte) (byte, error) {
	switch c {
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case '\\':
		return '\\', nil
	}
	return 0, fmt.Errorf("format: unknown escape \\%c", c)
}
