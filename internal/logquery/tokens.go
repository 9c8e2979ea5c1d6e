package logquery

import (
	"sort"
	"strings"
	"unicode/utf8"
)

//go:generate go run gen_unicode61.go

// asciiFold maps each ASCII byte to what a word keeps of it: lower case for
// letters, itself for digits, 0 for separators.
var asciiFold = func() (t [utf8.RuneSelf]byte) {
	for c := 0; c < utf8.RuneSelf; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			t[c] = byte(c)
		case c >= 'A' && c <= 'Z':
			t[c] = byte(c) + 'a' - 'A'
		}
	}
	return t
}()

// fold returns what a word keeps of the non-ASCII code point r: -1 when r
// separates words, 0 when it is dropped (a combining mark), else the folded
// code point.
func fold(r rune) rune {
	i := sort.Search(len(separators), func(i int) bool { return separators[i][1] >= r })
	if i < len(separators) && separators[i][0] <= r {
		return -1
	}
	j := sort.Search(len(folds), func(j int) bool { return folds[j][0] >= r })
	if j < len(folds) && folds[j][0] == r {
		return folds[j][1]
	}
	return r
}

// Tokens splits text into words as the SQLite log store's full-text index
// does (FTS5's unicode61 tokenizer with remove_diacritics 2): words are runs
// of letters, digits and the like, folded to lower case without diacritics;
// everything else separates them. "C:\Windows\wscript.exe" is the words c,
// windows, wscript and exe; "Überwachung" is uberwachung. The tables come
// from that SQLite (gen_unicode61.go), so both stores see the same words.
func Tokens(text string) []string {
	var out []string
	var word strings.Builder
	flush := func() {
		if word.Len() > 0 {
			out = append(out, word.String())
			word.Reset()
		}
	}
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			if f := asciiFold[c]; f != 0 {
				word.WriteByte(f)
			} else {
				flush()
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		i += n
		switch f := fold(r); {
		case f < 0 || r == utf8.RuneError && n == 1:
			flush()
		case f > 0:
			word.WriteRune(f)
		}
	}
	flush()
	return out
}
