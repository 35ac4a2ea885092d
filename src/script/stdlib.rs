//! The Rhai scripts shipped in `stdlib/`, embedded in the binary at build time.

/// Every shipped script as `(name, source)`, sorted by name; `import "name"` loads one.
pub const SCRIPTS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/stdlib_index.rs"));

/// The source of the shipped script `name` (with or without the `.rhai` extension).
pub fn get(name: &str) -> Option<&'static str> {
    let name = name.strip_suffix(".rhai").unwrap_or(name);
    SCRIPTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, source)| *source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stdlib_file_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("stdlib");
        let on_disk = std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "rhai")
            })
            .count();
        assert_eq!(SCRIPTS.len(), on_disk);
        assert!(get("arrays").is_some());
        assert!(get("arrays.rhai").is_some());
        assert!(get("no_such_script").is_none());
    }
}
