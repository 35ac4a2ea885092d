//! The Rust API as the evcxr notebook (`notebooks/04_rust_api_evcxr.ipynb`) uses it: the
//! prelude, option structs with defaults, and the rich-display hooks. Smaller samples than
//! the notebook; the notebook itself runs in `scripts/check-notebooks`.

use bumplab::display::{Rich, evcxr_text};
use bumplab::prelude::*;

/// The MIME types `value` shows itself as, checking each is evcxr's format.
fn shown_as(value: &impl Rich) -> Vec<&'static str> {
    let text = evcxr_text(value).unwrap();
    assert_eq!(
        text.matches("EVCXR_BEGIN_CONTENT").count(),
        text.matches("EVCXR_END_CONTENT").count()
    );
    value
        .representations()
        .unwrap()
        .into_iter()
        .map(|(mime, _)| mime)
        .collect()
}

#[test]
fn the_notebook_workflow_runs_through_the_prelude() -> Result<()> {
    let events = EventSet::from_columns(lhco_toy(&LhcoToyOptions {
        background: 20_000,
        signal: 300,
        seed: 7,
        ..LhcoToyOptions::default()
    })?)?;
    assert_eq!(shown_as(&events), ["text/html"]);
    assert_eq!(shown_as(&describe(&events)?), ["text/html"]);
    let data = Hist1D::from_events(&events, "mjj", linear_bins(2800.0, 7000.0, 42)?)?;
    assert_eq!(shown_as(&data), ["image/png"]);
    let fit = fit_dijet_hist(&data, &FitOptions::default())?;
    let reference = fit.prediction(data.edges())?;
    let bh = bump_hunter(
        &data,
        &reference,
        &BumpHunterOptions {
            npe: 200,
            ..BumpHunterOptions::default()
        },
        None,
    )?;
    assert!(bh.window_edges.0 < bh.window_edges.1);
    assert_eq!(shown_as(&bh), ["text/html", "image/png"]);
    bh.evcxr_display();
    let png = bumplab::display::figure_bytes("png", |path| {
        plot_bumphunter(path, &bh, &BumpPlotOptions::default())
    })?;
    assert!(png.starts_with(b"\x89PNG"));

    let scores = events.column("mj1")?;
    let labels = events.column("label")?;
    let r = roc(&scores, &labels, None)?;
    assert_eq!(shown_as(&r), ["image/png"]);
    assert_eq!(shown_as(&sic(&scores, &labels, None)?), ["image/png"]);
    Ok(())
}
