//! Criterion benchmarks for every layer, each next to its peers: see `benches/` and README.md.
//! This library is empty; the benchmarks and their peers are dev-dependencies.
