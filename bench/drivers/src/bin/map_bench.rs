//! Loads, validates and orders generated container maps with random acyclic dependencies, and prints the time per
//! size, to show the target (1 000 containers under 50 ms) and linear growth. Run it through `bench/maps`.
//!
//! Arguments: sizes, default `100 1000 2000 5000 10000`.

// A benchmark driver prints its report; that is its job.
#![allow(clippy::print_stdout)]

use std::fmt::Write as _;
use std::time::Instant;

use dfab_core::env::Env;
use dfab_core::map::{load_map_str, Graph};

use dfab_bench::{median, numbers};

/// A map of `size` containers: each links to up to three earlier ones, every tenth has two instances, every fifth
/// attaches a volume that a later one uses.
fn generate(size: u64) -> String {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d ^ size;
    let mut random = move |below: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below.max(1)
    };
    let mut yaml = String::from("name: generated\nrepository: registry.example.com\nvolumes:\n");
    for i in (0..size).step_by(5) {
        let _ = writeln!(yaml, "  v{i}: /data/v{i}");
    }
    for i in 0..size {
        let _ = writeln!(yaml, "c{i}:\n  image: app{}:1", i % 7);
        if i % 10 == 3 {
            yaml.push_str("  instances: [a, b]\n");
        }
        if i % 5 == 0 {
            let _ = writeln!(yaml, "  attaches: v{i}");
        }
        if i > 0 {
            let links: Vec<String> = (0..random(4))
                .map(|_| random(i))
                .map(|j| format!("c{j}"))
                .collect();
            if !links.is_empty() {
                let _ = writeln!(yaml, "  links: [{}]", links.join(", "));
            }
            if i >= 5 && random(3) == 0 {
                let _ = writeln!(yaml, "  uses: v{}", (random(i / 5)) * 5);
            }
        }
    }
    yaml
}

fn main() -> anyhow::Result<()> {
    let mut sizes = numbers()?;
    if sizes.is_empty() {
        sizes = vec![100, 1_000, 2_000, 5_000, 10_000];
    }
    let env = Env::default();
    println!("| containers | load + validate + order (ms) | µs per container |");
    println!("|---:|---:|---:|");
    for size in sizes {
        let yaml = generate(size);
        let mut times = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            let map = load_map_str(&yaml, None, "generated.yaml", &env)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .map;
            let graph = Graph::new(&map, &env).map_err(|e| anyhow::anyhow!("{e}"))?;
            let order = graph.start_order(graph.containers());
            assert!(order.len() >= graph.containers().len());
            times.push(start.elapsed().as_secs_f64());
        }
        let ms = median(times) * 1000.0;
        println!("| {size} | {ms:.1} | {:.1} |", ms * 1000.0 / size as f64);
    }
    Ok(())
}
