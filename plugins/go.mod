module github.com/lhk-soc/lhk/plugins

go 1.24

replace github.com/lhk-soc/lhk/pdk => ../pdk

require github.com/lhk-soc/lhk/pdk v0.0.0-00010101000000-000000000000

require github.com/extism/go-pdk v1.1.3 // indirect
