package config

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ParseProperties reads Java-style properties text (server.properties) and
// returns its key/value pairs. It follows java.util.Properties.load:
//
//   - a line whose first non-blank character is '#' or '!' is a comment;
//     blank lines are skipped; lines end at \n, \r\n or \r;
//   - the key ends at the first unescaped '=', ':' or blank (space, tab,
//     form feed); blanks around the separator are skipped, so "k=v",
//     "k: v" and "k v" are the same;
//   - a line ending in an odd number of backslashes continues on the next
//     line, whose leading blanks are dropped (a comment line never
//     continues);
//   - escapes: \t \n \r \f, \uXXXX (UTF-16 surrogate pairs combined), and
//     backslash before any other character stands for that character, so
//     \\ is a backslash and \= an equals sign;
//   - a later duplicate key replaces an earlier one.
//
// Unlike Java it reads UTF-8 (Properties.load(InputStream) reads Latin-1)
// and drops trailing unescaped blanks from values (Java keeps them; Kafka
// trims values when it parses them anyway). Errors name the line: a key that
// is empty, a malformed \u escape, or text that is not UTF-8.
func ParseProperties(r io.Reader) (map[string]string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n"), "\n")
	props := make(map[string]string)
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := strings.TrimLeft(lines[i], blanks)
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		for continues(line) {
			line = line[:len(line)-1]
			if i+1 == len(lines) {
				break // a backslash at the end of input is dropped
			}
			i++
			line += strings.TrimLeft(lines[i], blanks)
		}
		if !utf8.ValidString(line) {
			return nil, fmt.Errorf("line %d: not valid UTF-8", start)
		}
		key, value, err := splitProperty(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", start, err)
		}
		props[key] = value
	}
	return props, nil
}

const blanks = " \t\f"

// continues reports whether line ends in an odd number of backslashes.
func continues(line string) bool {
	n := len(line) - len(strings.TrimRight(line, `\`))
	return n%2 == 1
}

// splitProperty splits one logical line into its unescaped key and value.
func splitProperty(line string) (key, value string, err error) {
	end := len(line)
	for i := 0; i < len(line); i++ {
		if line[i] == '\\' {
			i++
			continue
		}
		if line[i] == '=' || line[i] == ':' || strings.IndexByte(blanks, line[i]) >= 0 {
			end = i
			break
		}
	}
	rest := strings.TrimLeft(line[end:], blanks)
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], blanks)
	}
	if key, _, err = unescape(line[:end]); err != nil {
		return "", "", err
	}
	if key == "" {
		return "", "", errors.New("missing key before the separator")
	}
	value, keep, err := unescape(rest)
	if err != nil {
		return "", "", err
	}
	return key, value[:keep], nil
}

// unescape resolves backslash escapes. keep is the length of the result up
// to its last character that is not an unescaped blank.
func unescape(s string) (out string, keep int, err error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			if strings.IndexByte(blanks, c) < 0 {
				keep = b.Len()
			}
			continue
		}
		i++
		if i == len(s) {
			break
		}
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			r, n, err := unicodeEscape(s[i-1:])
			if err != nil {
				return "", 0, err
			}
			b.WriteRune(r)
			i += n - 2
		default:
			b.WriteByte(s[i])
		}
		keep = b.Len()
	}
	return b.String(), keep, nil
}

// unicodeEscape decodes the \uXXXX at the start of s, and a second one when
// the first is a high surrogate. It returns the rune and the bytes used.
func unicodeEscape(s string) (rune, int, error) {
	hex := func(s string) (rune, bool) {
		if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(s[2:6], 16, 16)
		return rune(n), err == nil
	}
	r, ok := hex(s)
	if !ok {
		return 0, 0, errors.New(`malformed \uXXXX escape`)
	}
	if !utf16.IsSurrogate(r) {
		return r, 6, nil
	}
	if lo, ok := hex(s[6:]); ok {
		if p := utf16.DecodeRune(r, lo); p != utf8.RuneError {
			return p, 12, nil
		}
	}
	return 0, 0, errors.New(`unpaired UTF-16 surrogate in \u escape`)
}

// ParseOverride splits one --override argument, "key=value", at its first
// '='. Blanks around the key and value are dropped; the value may be empty
// and may contain '='. Whether the key exists is NewBroker's business.
func ParseOverride(s string) (key, value string, err error) {
	key, value, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return "", "", fmt.Errorf("invalid override %q: want key=value", s)
	}
	return key, strings.TrimSpace(value), nil
}
