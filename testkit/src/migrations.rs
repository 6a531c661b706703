//! Released migrations never change: their fingerprint, for the tests that
//! hold each released one to the digest it shipped with.

use std::path::Path;

use sha2::{Digest, Sha256};

/// The SHA-256 (hex) of a migration directory's `up.sql` then `down.sql`.
pub fn migration_digest(dir: &Path) -> String {
    let mut digest = Sha256::new();
    for file in ["up.sql", "down.sql"] {
        let path = dir.join(file);
        digest.update(std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}")));
    }
    digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
