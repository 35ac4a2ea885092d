//! Device placement as a user sees it (issue 23 item 3): `device(name)` said once holds for
//! every later network and search; a bumplab built without the `cuda` feature answers
//! `device("cuda")` with an error naming the feature and the build command, and the session
//! goes on. These run in the default CPU build; the GPU side is checked on a GPU machine with
//! `--features cuda` (docs/ARCHITECTURE.md, "The GPU path").

use std::sync::Arc;

use bumplab::script::{ErrorKind, Session};

/// A quiet session holding `kept = 42`.
fn session() -> Session {
    let mut s = Session::with_output(Arc::new(|_: &str| {}));
    let _ = s.eval("<setup>", "let kept = 42;").unwrap();
    s
}

fn text(s: &mut Session, code: &str) -> String {
    match s.eval("<test>", code) {
        Ok(value) => value.into_string().unwrap(),
        Err(err) => panic!("{code}: {err}"),
    }
}

#[cfg(not(feature = "cuda"))]
#[test]
fn cuda_without_the_feature_is_an_error_naming_it_and_the_session_goes_on() {
    let mut s = session();
    for name in ["cuda", "cuda:1"] {
        let err = s
            .eval("<repl>", &format!("device(\"{name}\")"))
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Runtime, "{err}");
        let message = err.to_string();
        for expected in [
            "without the `cuda` feature",
            "cargo build --release --features cuda",
            "scripts/check-cuda-build",
            "<repl>:1:1",
        ] {
            assert!(message.contains(expected), "'{expected}' in: {message}");
        }
        // Nothing changed: the CPU still holds, the variables are kept, networks still work.
        assert_eq!(text(&mut s, "device()"), "cpu");
        assert_eq!(s.eval("<repl>", "kept").unwrap().as_int().unwrap(), 42);
        assert_eq!(text(&mut s, "mlp(#{ inputs: 2 }).device"), "cpu");
    }
    // A script can catch it and fall back, as an analysis meant for both kinds of machine does.
    let fallback = "let where = \"cuda\"; \
        try { device(where); } catch (e) { where = \"cpu\"; device(where); } where";
    assert_eq!(text(&mut s, fallback), "cpu");
}

/// With the feature: on a GPU machine the session moves to it and later networks follow; on
/// a machine without one (the driver library present, no device) it is an error saying so,
/// never a crash, and the session stays on the CPU.
#[cfg(feature = "cuda")]
#[test]
fn cuda_opens_the_gpu_or_says_why_and_the_session_goes_on() {
    let mut s = session();
    match s.eval("<repl>", "device(\"cuda\")") {
        Ok(_) => {
            assert_eq!(text(&mut s, "device()"), "cuda");
            assert_eq!(text(&mut s, "mlp(#{ inputs: 2 }).device"), "cuda");
            // Said again, the same GPU context: networks of both times work together.
            let _ = s.eval("<repl>", "device(\"cuda\")").unwrap();
            assert_eq!(text(&mut s, "device()"), "cuda");
        }
        Err(err) => {
            assert_eq!(err.kind, ErrorKind::Runtime, "{err}");
            assert!(err.to_string().contains("cannot open CUDA GPU 0"), "{err}");
            assert_eq!(text(&mut s, "device()"), "cpu");
        }
    }
    assert_eq!(s.eval("<repl>", "kept").unwrap().as_int().unwrap(), 42);
}

#[test]
fn the_session_device_reaches_every_later_network() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.safetensors");
    let mut s = session();
    assert_eq!(text(&mut s, "device()"), "cpu");
    let _ = s.eval("<repl>", "device(\"cpu\")").unwrap();
    assert_eq!(text(&mut s, "device()"), "cpu");
    let session_device = s.state().device();
    assert!(session_device.is_cpu());
    for make in [
        "mlp(#{ inputs: 2, hidden: [4] })",
        "ensemble(#{ inputs: 2, hidden: [4] }, 3)",
        "flow(#{ inputs: 2, layers: 1, hidden: 4 })",
        "vae(#{ inputs: 2, hidden: [4] })",
        "deep_svdd(#{ inputs: 2, hidden: [4], out_dim: 2 })",
    ] {
        assert_eq!(text(&mut s, &format!("{make}.device")), "cpu", "{make}");
        let shown = text(&mut s, &format!("{make}.to_string()"));
        assert!(shown.contains("on cpu"), "{make}: {shown}");
    }
    // A loaded network lands on the session's device too.
    let fit = format!(
        "let m = mlp(#{{ inputs: 2, hidden: [4] }}); \
         m.fit([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0]], [0.0, 1.0, 0.0, 1.0], \
               #{{ epochs: 1, batch_size: 2 }}); \
         m.save(\"{0}\"); load_model(\"{0}\").device",
        path.display()
    );
    assert_eq!(text(&mut s, &fit), "cpu");
}

/// The scripting layer never decides on the CPU by itself: every network and search a built-in
/// makes takes the session's device (`session_state(ctx)?.device()`, or the device of the
/// network it works with), so that `device("cuda")` said once moves all later work. Naming
/// `Device::Cpu` is allowed only to copy results back to the host (`to_device`) and for the
/// session's initial device.
#[test]
fn built_ins_never_pin_work_to_the_cpu() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/script");
    let mut offending = Vec::new();
    let mut device_options = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        for (i, line) in source.lines().enumerate() {
            let copy_back = line.contains("to_device(");
            let initial = file == "session.rs" && line.contains("device: Mutex::new(");
            if line.contains("Device::Cpu") && !copy_back && !initial {
                offending.push(format!("{file}:{}: {}", i + 1, line.trim()));
            }
            // A search's options struct: its device must be the session's, in the struct
            // literal or set once its declared options are parsed (`options.device = ...`).
            let sets_device =
                line.trim_start().starts_with("device: ") || line.contains(".device = ");
            if sets_device && !initial {
                device_options += 1;
                if !line.contains("session_state(ctx)?.device()")
                    && !line.contains("session_state(&ctx)?.device()")
                {
                    offending.push(format!("{file}:{}: {}", i + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offending.is_empty(),
        "work pinned to a device: {offending:#?}"
    );
    // cwola_hunt/sa_cwola, salad, anode, latent_vae, deep_set_vae, rare_and_different.
    assert!(device_options >= 6, "found {device_options} option structs");
}
