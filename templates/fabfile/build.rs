//! Rejects a broken container map at compile time: `cargo build` fails with every problem, each with its line
//! and column, before the fabfile can run against a host.

fn main() {
    let map = "map.yaml";
    println!("cargo:rerun-if-changed={map}");
    match dfab_core::map::validate_map_file(map) {
        Ok(warnings) => {
            for warning in warnings {
                println!("cargo:warning={warning}");
            }
        }
        Err(error) => {
            for problem in &error.problems {
                eprintln!("{problem}");
            }
            std::process::exit(1);
        }
    }
}
