//! The Rust API as the evcxr notebook (`notebooks/04_rust_api_evcxr.ipynb`) uses it: the
//! prelude, option structs with defaults, and the rich-display hooks. Smaller samples than
//! the notebook; the notebook itself runs in `scripts/check-notebooks`.

use bumplab::prelude::*;

#[test]
fn the_notebook_workflow_runs_through_the_prelude() -> Result<()> {
    let events = EventSet::from_columns(lhco_toy(&LhcoToyOptions {
        background: 20_000,
        signal: 300,
        seed: 7,
        ..LhcoToyOptions::default()
    })?)?;
    events.evcxr_display();
    describe(&events)?.evcxr_display();
    let data = Hist1D::from_events(&events, "mjj", linear_bins(2800.0, 7000.0, 42)?)?;
    data.evcxr_display();
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
    bh.evcxr_display();
    let png = bumplab::display::png_bytes(|path| {
        plot_bumphunter(path, &bh, &BumpPlotOptions::default())
    })?;
    assert!(png.starts_with(b"\x89PNG"));
    Ok(())
}
