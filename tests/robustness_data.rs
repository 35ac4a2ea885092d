//! Event-set filters and readers that cannot be fooled or hung (issue 18 follow-up): QA's
//! cases as a script writes them, each an exact answer or an error naming what went wrong,
//! never a wrong count, a hang, an abort or a lost session.

use bumplab::script::Session;

#[path = "support/hostile.rs"]
mod hostile;
use hostile::refused;

/// A quiet session holding `kept = 42` and `e`, 1000 background events.
fn session() -> Session {
    hostile::session_with("let e = lhco_toy(#{ background: 1000, signal: 0 });")
}

/// The integer `code` evaluates to.
fn int(s: &mut Session, code: &str) -> i64 {
    let value = s
        .eval("<repl>", code)
        .unwrap_or_else(|e| panic!("{code}: {e}"));
    value
        .as_int()
        .unwrap_or_else(|t| panic!("{code}: gave a {t}"))
}

#[test]
fn w1_a_constant_condition_keeps_every_event_or_none() {
    let mut s = session();
    for always in ["1 > 0", "true", "1 = 1", "mjj > 0 or 1 = 1"] {
        assert_eq!(
            int(&mut s, &format!("e.filter(\"{always}\").len()")),
            1000,
            "{always}"
        );
    }
    for never in ["false", "null", "1 = 0"] {
        assert_eq!(
            int(&mut s, &format!("e.filter(\"{never}\").len()")),
            0,
            "{never}"
        );
    }
    refused(&mut s, "e.filter(\"mjj\")", &["not a true/false condition"]);
}

#[test]
fn a3_m4_long_conditions_are_refused_quickly_with_a_short_message() {
    let mut s = session();
    // 200 000 'and' terms overflowed the evaluation thread's stack; 6 000 'or' terms grew to
    // 8 GB; 20 000 '+' terms ran for minutes; 100 000 parentheses gave a 400 KB message.
    let conditions = [
        format!("mjj > 0{}", " and mjj > 0".repeat(200_000)),
        format!("mjj > 0{}", " or mjj > 0".repeat(6_000)),
        format!("mjj{} > 0", " + mjj".repeat(20_000)),
        format!("{}mjj > 0{}", "(".repeat(100_000), ")".repeat(100_000)),
    ];
    for condition in &conditions {
        let text = refused(
            &mut s,
            &format!("e.filter(\"{condition}\")"),
            &[
                "invalid filter condition",
                "a condition may have at most 4096",
            ],
        );
        assert!(text.len() < 400, "{} bytes: {}", text.len(), &text[..400]);
    }
    let deep = format!("{}mjj > 0{}", "(".repeat(40), ")".repeat(40));
    refused(
        &mut s,
        &format!("e.filter(\"{deep}\")"),
        &["nested more than 32 levels"],
    );
    // The largest allowed conditions run on the evaluation thread.
    let chain = format!("mjj > 0{}", " and mjj > 0".repeat(250));
    assert_eq!(int(&mut s, &format!("e.filter(\"{chain}\").len()")), 1000);
}

/// A named pipe with no writer at `path`.
#[cfg(unix)]
fn fifo(path: &std::path::Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    assert!(made.unwrap().success(), "mkfifo {}", path.display());
}

#[cfg(unix)]
#[test]
fn h2_pipes_and_devices_are_refused_at_once_naming_the_file() {
    // Each of these waited forever for a writer (deaf to Ctrl-C), or read /dev/zero until
    // the process aborted; a hang here is this test never finishing.
    let mut s = session();
    let dir = tempfile::tempdir().unwrap();
    for name in ["zf", "zf.safetensors", "zf.rhai"] {
        fifo(&dir.path().join(name));
    }
    let zf = dir.path().join("zf").display().to_string();
    let pipe = |file: &str| format!("{file}': it is a named pipe; only regular files");
    for call in ["read_csv", "read_parquet", "read_darkmachines", "read_lhco"] {
        refused(&mut s, &format!("{call}(\"{zf}\")"), &[&pipe("zf")]);
    }
    refused(
        &mut s,
        &format!("load_model(\"{zf}.safetensors\")"),
        &[&pipe("zf.safetensors")],
    );
    refused(
        &mut s,
        &format!("import \"{zf}\" as m;"),
        &[&pipe("zf.rhai")],
    );
    for call in ["read_csv", "read_darkmachines", "read_parquet", "read_lhco"] {
        refused(
            &mut s,
            &format!("{call}(\"/dev/zero\")"),
            &["'/dev/zero': it is a character device"],
        );
    }
    // A link to a regular file is read as the file.
    let file = dir.path().join("events.csv");
    std::fs::write(&file, "a,b\n1,2\n3,4\n").unwrap();
    std::os::unix::fs::symlink(&file, dir.path().join("link.csv")).unwrap();
    let link = dir.path().join("link.csv").display().to_string();
    assert_eq!(int(&mut s, &format!("read_csv(\"{link}\").len()")), 2);
}
