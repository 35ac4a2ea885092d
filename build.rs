//! Embeds the Rhai scripts of `stdlib/` into the binary so that `import "name"` finds them
//! wherever bumplab is installed. The scripts' text is written into the generated index as
//! string literals (no absolute paths), so a target directory shared between checkouts never
//! points at another checkout's files.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=stdlib");
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest_dir).join("stdlib");
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
        let text = std::fs::read_to_string(&path).expect("stdlib scripts are UTF-8 text");
        writeln!(code, "    ({name:?}, {text:?}),").unwrap();
    }
    code.push_str("]\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("stdlib_index.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
