//! What dfab reads from files users name (maps, clients files, rc files, SSH configs, known_hosts files, scripts):
//! regular files only, and never more than a documented cap, so that `/dev/zero`, a FIFO or a huge file is a
//! clear error instead of a hang or an unbounded allocation; and `~` in the paths they write.

mod path;
mod read;

pub use path::{cache_dir, expand_home};
pub use read::{check_regular, read_text, ReadError, MAX_INPUT_BYTES};
