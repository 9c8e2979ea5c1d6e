package logquery

import (
	"database/sql"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// sqliteTokens returns the words SQLite's FTS5 (unicode61 remove_diacritics
// 2, as logsqlite configures it) makes of each text.
func sqliteTokens(t *testing.T, texts []string) [][]string {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		`CREATE VIRTUAL TABLE f USING fts5(text, tokenize = 'unicode61 remove_diacritics 2')`,
		`CREATE VIRTUAL TABLE v USING fts5vocab(f, 'instance')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range texts {
		if _, err := tx.Exec("INSERT INTO f (rowid, text) VALUES (?, ?)", i+1, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	out := make([][]string, len(texts))
	rows, err := db.Query("SELECT doc, term FROM v ORDER BY doc, offset")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var d int
		var term string
		if err := rows.Scan(&d, &term); err != nil {
			t.Fatal(err)
		}
		out[d-1] = append(out[d-1], term)
	}
	return out
}

// TestTokensMatchSQLite checks Tokens against SQLite itself: every code
// point of the Basic Multilingual Plane and a sample of the others, alone
// between letters, and random mixed text.
func TestTokensMatchSQLite(t *testing.T) {
	var texts []string
	for r := rune(1); r <= 0x10FFFF; r++ {
		if r >= 0xD800 && r <= 0xDFFF || r > 0xFFFF && r%61 != 0 {
			continue
		}
		texts = append(texts, "a"+string(r)+"b")
	}
	rng := rand.New(rand.NewPCG(7, 11))
	alphabet := []rune(`aZ09 .-_\/:"'é É ü Ü ß İ ı ǅ Ω ω Ж ж 日本 ｱ ١ ² ½ ® ™ 🔥 ` + "\u0301\u0308\u200d\t\n\u00a0\u19b0\U000F0000")
	for range 3000 {
		var b strings.Builder
		for range 1 + rng.IntN(30) {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		texts = append(texts, b.String())
	}
	texts = append(texts, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe -noP -enc SQBFAFgA`, "Café Überwachung", "2001:db8::5", "")
	want := sqliteTokens(t, texts)
	bad := 0
	for i, s := range texts {
		if got := Tokens(s); !slices.Equal(got, want[i]) {
			bad++
			if bad <= 20 {
				t.Errorf("Tokens(%+q) = %q, SQLite %q", s, got, want[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d texts differ", bad, len(texts))
	}
}

func TestTerms(t *testing.T) {
	for _, tc := range []struct {
		q    string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"  ", nil, false},
		{"PowerShell -enc", []string{"powershell", "-enc"}, false},
		{`"Shared Words" shared words`, []string{"shared words", "shared", "words"}, false},
		{`a a A`, []string{"a"}, false},
		{`"unclosed phrase`, []string{"unclosed phrase"}, false},
		{"- * ^", nil, true},
		{"\x00", nil, true},
		{strings.Repeat("x ", 5000), nil, true},
		{"\xff", nil, true},
	} {
		got, err := Terms(tc.q)
		if (err != nil) != tc.err || !slices.Equal(got, tc.want) {
			t.Errorf("Terms(%q) = %q, %v; want %q, error %v", Short(tc.q), got, err, tc.want, tc.err)
		}
	}
}

func BenchmarkTokens(b *testing.B) {
	s := `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe -noP -enc SQBFAFgA WS0012.corp.example CORP\user017 10.2.3.4`
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Tokens(s)
	}
}
