package pdk

import (
	"errors"
	"testing"
)

func TestDecodeReply(t *testing.T) {
	type ticket struct {
		ID string `json:"id"`
	}
	tests := []struct {
		name     string
		reply    string
		wantCode string // "" when no error is expected
		wantID   string
	}{
		{"OK", `{"data":{"id":"T-1"}}`, "", "T-1"},
		{"OKNullData", `{"data":null}`, "", ""},
		{"OKNoData", `{}`, "", ""},
		{"ErrForbidden", `{"error":{"code":"forbidden","message":"capability tickets.write is not granted"}}`, CodeForbidden, ""},
		{"ErrNoCode", `{"error":{"message":"boom"}}`, CodeInternal, ""},
		{"ErrGarbage", `not json`, CodeInternal, ""},
		{"ErrWrongDataType", `{"data":[1,2]}`, CodeInternal, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got ticket
			err := decodeReply([]byte(tt.reply), &got)
			if code := ErrorCode(err); code != tt.wantCode {
				t.Fatalf("decodeReply(%s) code = %q (err %v), want %q", tt.reply, code, err, tt.wantCode)
			}
			if got.ID != tt.wantID {
				t.Fatalf("decodeReply(%s) id = %q, want %q", tt.reply, got.ID, tt.wantID)
			}
		})
	}
}

func TestDecodeReplyKeepsMessage(t *testing.T) {
	err := decodeReply([]byte(`{"error":{"code":"forbidden","message":"capability logs.read is not granted"}}`), nil)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("decodeReply error = %T %v, want *Error", err, err)
	}
	if e.Message != "capability logs.read is not granted" {
		t.Fatalf("message = %q", e.Message)
	}
	if got, want := e.Error(), "forbidden: capability logs.read is not granted"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int32
	}{
		{"OK", nil, 0},
		{"Err", errors.New("no tenant given"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Run(func() error { return tt.err }); got != tt.want {
				t.Fatalf("Run() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestInputJSONEmpty(t *testing.T) {
	var v map[string]any
	if err := InputJSON(&v); err == nil {
		t.Fatal("InputJSON of an empty input succeeded, want an error")
	}
}

func TestLevelString(t *testing.T) {
	for l, want := range map[Level]string{LevelTrace: "trace", LevelDebug: "debug", LevelInfo: "info", LevelWarn: "warn", LevelError: "error", Level(9): "level(9)"} {
		if got := l.String(); got != want {
			t.Errorf("Level(%d).String() = %q, want %q", int(l), got, want)
		}
	}
}
