//! Any bytes given to the map and clients loaders end in a map or an error, never a panic.
#![no_main]

use dfab_core::env::Env;
use dfab_core::map::{load_clients_str, load_map_str, to_yaml, Graph};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let env = Env::default();
    if let Ok(loaded) = load_map_str(text, Some("fuzz"), "fuzz.yaml", &env) {
        if let Ok(graph) = Graph::new(&loaded.map, &env) {
            let order = graph.start_order(graph.containers());
            let _ = graph.levels(&order);
        }
        let _ = to_yaml(&loaded.map);
    }
    let _ = load_clients_str(text, "fuzz.yaml", &env);
});
