//! Hostile and careless input, as a new user (or a hostile neighbour) would try it: every case
//! is an error naming what went wrong, never a hang, an abort or a lost session. Each test
//! runs in a session that holds a variable and checks it is still there afterwards, as the
//! REPL and the notebook kernel (which evaluate through the same `Session`) would see it.
//!
//! The cases are those of issue 18 ("Reliability"); the kernel's own cases are in
//! `tests/kernel_*.rs`, the readers' fuzzing in `tests/fuzz_readers.rs`.

use std::time::Duration;

use bumplab::script::Session;

#[path = "support/hostile.rs"]
mod hostile;
use hostile::{kept, refused};

/// A quiet session holding `kept = 42`.
fn session() -> Session {
    hostile::session_with("")
}

/// Evaluates `code`, pressing Ctrl-C 300 ms in; expects it to stop with an interruption and
/// the session to survive.
fn interrupted(s: &mut Session, code: &str) {
    let interrupt = s.interrupt();
    let trigger = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        interrupt.trigger();
    });
    let err = s.eval("<repl>", code).unwrap_err();
    trigger.join().unwrap();
    assert!(err.is_interrupted(), "{code}: {err}");
    assert!(kept(s));
}

#[test]
fn item_4_endless_nesting_is_an_error_not_a_stack_overflow() {
    let mut s = session();
    refused(
        &mut s,
        "let s = \"eval(s)\"; eval(s)",
        &["nests too deeply"],
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("self.rhai"), "import \"self\" as me;").unwrap();
    std::fs::write(dir.path().join("ping.rhai"), "import \"pong\" as p;").unwrap();
    std::fs::write(dir.path().join("pong.rhai"), "import \"ping\" as p;").unwrap();
    for script in ["self", "ping"] {
        let path = dir.path().join(script);
        refused(
            &mut s,
            &format!("import \"{}\" as m;", path.display()),
            &["import cycle"],
        );
    }
}

#[test]
fn item_5_a_log_plot_beyond_the_float_range_returns() {
    let mut s = session();
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("x.png");
    let code = format!(
        "hist_from_counts([0.0, 1.0, 2.0], [1e150, 1e-150]).plot(\"{}\", #{{ log_y: true }})",
        png.display()
    );
    let _ = s.eval("<repl>", &code).unwrap();
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
}

#[test]
fn item_6_bumphunter_counts_beyond_32_bits_and_no_pseudo_experiments() {
    let mut s = session();
    let setup = "let e = linear_bins(0.0, 10.0, 10);
        let h = hist_from_counts(e, [5e9, 5e9, 5e9, 5e9, 5e9, 5e9, 5e9, 5e9, 5e9, 5e9]);";
    let _ = s.eval("<repl>", setup).unwrap();
    let r = s
        .eval(
            "<repl>",
            "let r = bump_hunter(h, h, #{ npe: 200 }); r.global_p",
        )
        .unwrap();
    assert_eq!(
        r.as_float().unwrap(),
        1.0,
        "no excess: every pseudo-experiment is as extreme"
    );
    refused(
        &mut s,
        "bump_hunter(h, h, #{ npe: 0 })",
        &["npe", "at least 1"],
    );
}

#[test]
fn item_7_impossible_sizes_are_errors_naming_the_request() {
    let mut s = session();
    let cases: &[(&str, &[&str])] = &[
        (
            "linear_bins(0.0, 1.0, 10_000_000_000)",
            &["number of bins", "script array"],
        ),
        (
            "mlp(#{ inputs: 4, hidden: [1000000, 1000000] })",
            &["parameter", "needs", "TiB"],
        ),
        (
            "ensemble(#{ inputs: 2 }, 100000000)",
            &["ensemble of 100000000 members", "needs"],
        ),
        (
            "flow(#{ inputs: 2 }).sample(1_000_000_000_000)",
            &["1000000000000 samples", "needs"],
        ),
        (
            "let s = \"x\"; loop { s += s; }",
            &["Length of string too large"],
        ),
        ("blob(10_000_000_000)", &["Size of array/BLOB too large"]),
        (
            "let a = [0]; loop { a += a; }",
            &["Size of array/BLOB too large"],
        ),
        ("fn f(n) { f(n + 1) } f(0)", &["deeper than 1000 levels"]),
        (
            "deep_svdd(#{ inputs: 4, hidden: [10000000000] })",
            &["parameter", "needs"],
        ),
        (
            "vae(#{ inputs: 4, hidden: [1000000000000] })",
            &["parameter", "needs"],
        ),
        (
            "flow(#{ inputs: 2, hidden: 100000000 })",
            &["flow of 5 layers", "needs"],
        ),
        (
            "flow(#{ inputs: 2, knots: 100000000 })",
            &["flow of 5 layers", "needs"],
        ),
        (
            "flow(#{ inputs: 2, layers: 100000000 })",
            &["100000000 layers", "at most 256"],
        ),
        (
            "hist2d([0.5], [0.5], linear_bins(0.0, 1.0, 1000000), linear_bins(0.0, 1.0, 1000000))",
            &["1000000 x 1000000 bins", "needs"],
        ),
        (
            "anode(lhco_toy(#{ background: 1000, signal: 10 }), #{ signal_region: [3300.0, 3700.0],
                samples: 100000000000, epochs: 1, average: 1 })",
            &["samples per signal-region event", "needs"],
        ),
    ];
    for (code, expected) in cases {
        refused(&mut s, code, expected);
    }
}

#[test]
fn item_14_long_built_ins_stop_at_ctrl_c() {
    let mut s = session();
    let _ = s.eval("<setup>", "let f = flow(#{ inputs: 2 });").unwrap();
    // Each takes seconds to minutes; the flag is polled between chunks.
    for code in [
        "let big = lhco_toy(#{ background: 10_000_000, signal: 0 });",
        "let big = darkmachines_toy(#{ background: 2_000_000, signal: 0 });",
        "let drawn = f.sample(20_000_000);",
    ] {
        interrupted(&mut s, code);
    }
    // A BumpHunter width far beyond the histogram scans only the windows that fit (it once
    // counted widths up to 1e12 one by one).
    let r = s.eval(
        "<repl>",
        "let e = linear_bins(0.0, 1.0, 100); let c = []; c.pad(100, 50.0);
         let h = hist_from_counts(e, c);
         bump_hunter(h, h, #{ npe: 10, width_max: 1000000000000 }).windows_tested",
    );
    assert!(r.unwrap().as_int().unwrap() > 0);
}

#[test]
fn item_8_networks_refuse_non_finite_inputs_and_impossible_labels() {
    let mut s = session();
    let setup = r#"
        let e = lhco_toy(#{ background: 300, signal: 30, seed: 1 });
        let v = e.col("mj1");
        v[3] = 0.0 / 0.0;
        let nan = e.with_column("mj1", v);
        let w = e.col("dmj");
        w[5] = 1e308 * 10.0;
        let inf = e.with_column("dmj", w);
        let labels = e.col("label");
        labels[7] = 5.0;
        labels[8] = -3.0;
        let five = e.with_column("label", labels);
        let m = mlp(#{ inputs: 2, hidden: [8] });
    "#;
    let _ = s.eval("<setup>", setup).unwrap();
    let fit = |data: &str| format!("m.fit({data}, #{{ features: [\"mj1\", \"dmj\"], epochs: 1 }})");
    refused(
        &mut s,
        &fit("nan"),
        &["column 'mj1', row 3 is NaN", "finite"],
    );
    refused(&mut s, &fit("inf"), &["column 'dmj', row 5 is inf"]);
    refused(&mut s, &fit("five"), &["row 7 holds 5", "[0, 1]"]);
    // A linear output regresses: any finite target is fine.
    let _ = s.eval(
        "<repl>",
        "mlp(#{ inputs: 2, hidden: [8], output: \"linear\" }).fit(five, #{ features: [\"mj1\", \"dmj\"], epochs: 1 })",
    )
    .unwrap();
    let _ = s.eval("<repl>", &fit("e")).unwrap();
    refused(&mut s, "m.predict(nan)", &["column 'mj1', row 3 is NaN"]);
    refused(
        &mut s,
        "m.predict([[1.0, 0.0 / 0.0]])",
        &["row 0, column 1 is NaN"],
    );
    let scores = s.eval("<repl>", "m.predict(e)").unwrap();
    assert_eq!(scores.into_array().unwrap().len(), 330);
    // A conditional flow samples only at a finite context.
    refused(
        &mut s,
        "flow(#{ inputs: 2, context: 1 }).sample(10, #{ context: 1e308 * 10.0 })",
        &["sampling context value", "row 0, column 0 is inf"],
    );
}

#[test]
fn item_9_a_zero_prediction_is_not_a_discovery() {
    // SALAD on 60 + 5 events: the tight cuts keep one data event and no simulated one; that
    // printed "global p = 0 (Z = 37.52)".
    let mut s = session();
    let code = r#"
        seed(2);
        let data = lhco_toy(#{ background: 60, signal: 5 });
        let sim = lhco_toy(#{ background: 300, signal: 0, variant: "sim" });
        let s = salad(data, sim, #{ signal_region: [3300.0, 3700.0] });
        let untested = s.estimates.filter(|e| e.untested != ());
        assert(untested.len() >= 1, "some cuts have too few simulated events");
        for e in untested { assert(e.significance.is_nan(), "no Z without a test"); }
        s
    "#;
    let salad = s.eval("<repl>", code).unwrap();
    let text = s.display(&salad);
    assert!(!text.contains("37.52"), "{text}");
    assert!(
        text.contains("effective reference events pass the cut"),
        "{text}"
    );
}

#[test]
fn item_13_ctrl_c_during_fit_keeps_a_usable_model() {
    let mut s = session();
    let _ = s
        .eval(
            "<setup>",
            "let e = lhco_toy(#{ background: 5000, signal: 500, seed: 2 });
         let m = mlp(#{ inputs: 2, hidden: [16] });
         let k = ensemble(#{ inputs: 2, hidden: [8] }, 2);",
        )
        .unwrap();
    for fit in [
        "m.fit(e, #{ features: [\"mj1\", \"dmj\"], epochs: 100000 })",
        "k.fit(e, #{ features: [\"mj1\", \"dmj\"], epochs: 100000 })",
    ] {
        interrupted(&mut s, fit);
    }
    // The interrupted networks know their input columns and predict.
    for net in ["m", "k"] {
        let scores = s.eval("<repl>", &format!("{net}.predict(e)")).unwrap();
        let scores = scores.into_array().unwrap();
        assert_eq!(scores.len(), 5500, "{net}");
        assert!(
            scores.iter().all(|v| v.as_float().unwrap().is_finite()),
            "{net}"
        );
    }
    assert!(kept(&mut s));
}

#[test]
fn item_15_saved_results_are_byte_identical_run_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = |tag: &str| {
        let mut s = session();
        let code = format!(
            r#"
            seed(5);
            let e = lhco_toy(#{{ background: 6000, signal: 300 }});
            let hunt = cwola_hunt(e, #{{ features: ["mj1", "dmj"], bins: log_bins(2632.0, 6000.0, 12),
                sr_bins: 3, folds: 3, inits: 1, epochs: 1, efficiencies: [0.1] }});
            hunt.save("{dir}/hunt_{tag}.json");
            let m = mlp(#{{ inputs: 2, hidden: [8] }});
            let h = m.fit(e, #{{ features: ["mj1", "dmj"], epochs: 2 }});
            h.save("{dir}/history_{tag}.json");
            let d = e.hist("mjj", linear_bins(2800.0, 6000.0, 32));
            bump_hunter(d, d.scale(1.0), #{{ npe: 500 }}).save("{dir}/bump_{tag}.json");
            "#,
            dir = dir.path().display()
        );
        let _ = s.eval("<script>", &code).unwrap();
    };
    run("a");
    run("b");
    for name in ["hunt", "history", "bump"] {
        let a = std::fs::read(dir.path().join(format!("{name}_a.json"))).unwrap();
        let b = std::fs::read(dir.path().join(format!("{name}_b.json"))).unwrap();
        assert!(a == b, "{name}: the two result files differ");
        assert!(!String::from_utf8_lossy(&a).contains("seconds"), "{name}");
    }
}

#[test]
fn item_8_a_diverging_training_is_an_error_and_keeps_the_weights() {
    // With lr 1e300 the last step of the only epoch broke the weights after the loss was
    // taken: no error, val_loss NaN marked best, and predictions all NaN.
    let mut s = session();
    let _ = s
        .eval(
            "<setup>",
            "let e = lhco_toy(#{ background: 500, signal: 50, seed: 3 });
             let m = mlp(#{ inputs: 2, hidden: [8] });
             let k = ensemble(#{ inputs: 2, hidden: [8] }, 2);
             m.fit(e, #{ features: [\"mj1\", \"dmj\"], epochs: 1 });
             let before = m.predict(e.head(3));",
        )
        .unwrap();
    for fit in [
        "m.fit(e, #{ features: [\"mj1\", \"dmj\"], epochs: 1, lr: 1e300 })",
        "m.fit(e, #{ features: [\"mj1\", \"dmj\"], epochs: 1, lr: 1e300, validation: 0 })",
        "k.fit(e, #{ features: [\"mj1\", \"dmj\"], epochs: 1, lr: 1e300 })",
    ] {
        refused(&mut s, fit, &["became", "keeps its best weights"]);
    }
    // No diverging training had a finite epoch: the network keeps its weights from before.
    let same = s
        .eval(
            "<repl>",
            "let after = m.predict(e.head(3)); after == before",
        )
        .unwrap();
    assert!(same.as_bool().unwrap(), "the weights changed");
}
