//! Embeds the Rhai scripts of `stdlib/` into the binary so that `import "name"` finds them
//! wherever bumplab is installed.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=stdlib");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("stdlib");
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .expect("stdlib/ exists")
        .map(|entry| entry.expect("stdlib/ is readable").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rhai"))
        .collect();
    scripts.sort();
    let mut code = String::from("&[\n");
    for path in scripts {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 file name");
        writeln!(code, "    ({name:?}, include_str!({:?})),", path.display()).unwrap();
    }
    code.push_str("]\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("stdlib_index.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
