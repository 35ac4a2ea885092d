//! Figures without a file: every figure built-in (`h.plot()`, `hunt.plot(#{ log_y: true })`,
//! `plot_hists([a, b], #{})`, ...) called without its path draws a PNG, or an SVG after
//! `inline_figures("svg")` ([`crate::display::figure_bytes`]), and hands it to the session's
//! display (a notebook kernel shows it inline). Outside a notebook the call is an error asking
//! for a path.
//!
//! The path-less forms are catch-all overloads (Rhai prefers any exactly typed overload, so
//! the path-taking forms are untouched); each tries the path after the receiver, then last,
//! then first, and calls the first overload that exists.

use std::cell::Cell;
use std::sync::atomic::Ordering;

use rhai::{Dynamic, Engine, EvalAltResult, NativeCallContext, Position};

use super::catalog::Catalog;
use super::state::session_state;

thread_local! {
    /// Set while a path-less call is trying its overloads, so that a guess which lands on
    /// a catch-all overload again fails instead of recursing.
    static TRYING: Cell<bool> = const { Cell::new(false) };
}

/// Registers the path-less forms (one to three arguments) of every figure built-in.
pub(super) fn register(engine: &mut Engine, catalog: &Catalog) {
    for name in catalog.figure_names() {
        let n = name.to_string();
        engine.register_fn(name, move |ctx: NativeCallContext, a: Dynamic| {
            show(&ctx, &n, vec![a])
        });
        let n = name.to_string();
        engine.register_fn(
            name,
            move |ctx: NativeCallContext, a: Dynamic, b: Dynamic| show(&ctx, &n, vec![a, b]),
        );
        let n = name.to_string();
        engine.register_fn(
            name,
            move |ctx: NativeCallContext, a: Dynamic, b: Dynamic, c: Dynamic| {
                show(&ctx, &n, vec![a, b, c])
            },
        );
    }
}

/// Draws `name(args + a path)` to a temporary PNG and displays it.
fn show(ctx: &NativeCallContext, name: &str, args: Vec<Dynamic>) -> Result<(), Box<EvalAltResult>> {
    let signature = || {
        let types: Vec<_> = args
            .iter()
            .map(|a| ctx.engine().map_type_name(a.type_name()).to_string())
            .collect();
        format!("{name}({})", types.join(", "))
    };
    if TRYING.with(Cell::get) {
        return Err(EvalAltResult::ErrorFunctionNotFound(signature(), Position::NONE).into());
    }
    let state = session_state(ctx)?;
    let Some(display) = state.display.clone() else {
        return Err(format!(
            "{} has no file to draw to: give a path ending in .png or .svg \
             (figures without a path show inline only in a notebook)",
            signature()
        )
        .into());
    };
    let (extension, mime) = if state.inline_svg.load(Ordering::Relaxed) {
        ("svg", "image/svg+xml")
    } else {
        ("png", "image/png")
    };
    let figure = crate::display::figure_bytes::<Box<EvalAltResult>>(extension, |path| {
        if draw(ctx, name, &args, path)? {
            Ok(())
        } else {
            Err(format!(
                "{} cannot draw a figure: no {name}(...) takes these arguments with a path",
                signature()
            )
            .into())
        }
    })?;
    display(mime, &figure);
    Ok(())
}

/// Calls the first overload of `name` that takes `args` with `path` inserted after the
/// first argument, last or first; `Ok(false)` when there is none.
fn draw(
    ctx: &NativeCallContext,
    name: &str,
    args: &[Dynamic],
    path: &std::path::Path,
) -> Result<bool, Box<EvalAltResult>> {
    let mut positions = vec![1.min(args.len()), args.len(), 0];
    positions.dedup();
    TRYING.with(|t| t.set(true));
    let mut outcome = Ok(false);
    for at in positions {
        let mut call = args.to_vec();
        call.insert(at, Dynamic::from(path.to_string_lossy().to_string()));
        let mut refs: Vec<&mut Dynamic> = call.iter_mut().collect();
        match ctx.call_native_fn_raw(name, false, &mut refs) {
            Ok(_) => {
                outcome = Ok(true);
                break;
            }
            Err(err) if matches!(*err, EvalAltResult::ErrorFunctionNotFound(..)) => {}
            Err(err) => {
                outcome = Err(err);
                break;
            }
        }
    }
    TRYING.with(|t| t.set(false));
    outcome
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use crate::script::Session;

    /// What the display received: (MIME type, bytes) per figure.
    type Shown = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

    fn session_with_display() -> (Session, Shown) {
        let shown = Arc::new(Mutex::new(Vec::new()));
        let sink = shown.clone();
        let session = Session::with_sinks(
            Arc::new(|_: &str| {}),
            Some(Arc::new(move |mime: &str, bytes: &[u8]| {
                sink.lock()
                    .unwrap()
                    .push((mime.to_string(), bytes.to_vec()))
            })),
        );
        (session, shown)
    }

    #[test]
    fn figures_without_a_path_go_to_the_display() {
        let (mut s, shown) = session_with_display();
        let _ = s
            .eval(
                "<t>",
                "let h = [0.5, 1.5, 1.6].hist(linear_bins(0.0, 2.0, 2));",
            )
            .unwrap();
        let _ = s.eval("<t>", "h.plot()").unwrap();
        let _ = s.eval("<t>", "h.plot(#{ log_y: true })").unwrap();
        let _ = s
            .eval("<t>", "plot_hists([h, h], #{ labels: [\"a\", \"b\"] })")
            .unwrap();
        let shown = shown.lock().unwrap();
        assert_eq!(shown.len(), 3);
        assert!(
            shown
                .iter()
                .all(|(mime, png)| mime == "image/png" && png.starts_with(b"\x89PNG"))
        );
        // Option errors of the real overload come through unchanged.
        let err = s.eval("<t>", "h.plot(#{ colour: 1 })").unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
        let err = s.eval("<t>", "(42).plot()").unwrap_err();
        assert!(err.to_string().contains("cannot draw a figure"), "{err}");
    }

    #[test]
    fn inline_figures_can_be_svg() {
        let (mut s, shown) = session_with_display();
        let _ = s
            .eval(
                "<t>",
                "inline_figures(\"svg\"); [0.5].hist(linear_bins(0.0, 2.0, 2)).plot()",
            )
            .unwrap();
        let _ = s
            .eval(
                "<t>",
                "inline_figures(\"png\"); [0.5].hist(linear_bins(0.0, 2.0, 2)).plot()",
            )
            .unwrap();
        let shown = shown.lock().unwrap();
        assert_eq!(shown[0].0, "image/svg+xml");
        assert!(String::from_utf8_lossy(&shown[0].1).contains("<svg"));
        assert_eq!(shown[1].0, "image/png");
        let err = s.eval("<t>", "inline_figures(\"pdf\")").unwrap_err();
        assert!(err.to_string().contains("\"png\" or \"svg\""), "{err}");
    }

    #[test]
    fn outside_a_notebook_a_path_is_required() {
        let mut s = Session::with_output(Arc::new(|_: &str| {}));
        let _ = s
            .eval("<t>", "let h = [0.5].hist(linear_bins(0.0, 2.0, 2));")
            .unwrap();
        let err = s.eval("<t>", "h.plot()").unwrap_err().to_string();
        assert!(err.contains("give a path ending in .png or .svg"), "{err}");
    }
}
