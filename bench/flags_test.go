package main

import "testing"

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"4GiB", 4 << 30, false},
		{"512MiB", 512 << 20, false},
		{"64 KiB", 64 << 10, false},
		{"2GB", 2e9, false},
		{"1e9", 1e9, false},
		{"1000B", 1000, false},
		{"0.5GiB", 512 << 20, false},
		{"", 0, true},
		{"-1GiB", 0, true},
		{"lots", 0, true},
	}
	for _, tt := range tests {
		got, err := parseBytes(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
