//! Declared options several searches share (see `declared.rs`): a window's mass column,
//! signal region and range (SALAD, ANODE, CATHODE, the references), and the shape of a
//! sideband flow (ANODE, CATHODE). Each built-in declares `features` itself, since setting
//! them also sets its networks' inputs.

use super::declared::Opt;
use crate::methods::window::Window;
use crate::nn::flow::FlowConfig;

/// `mass`, `signal_region` and `range` of the window `access` reaches.
pub(super) fn window_opts<T: Clone + 'static>(access: fn(&mut T) -> &mut Window) -> Vec<Opt<T>> {
    let opts: Vec<Opt<Window>> = vec![
        Opt::field("mass", "the resonant mass column", |w: &mut Window| {
            &mut w.mass
        }),
        Opt::field("signal_region", "the signal region in the mass", |w| {
            &mut w.signal_region
        }),
        Opt::field(
            "range",
            "the mass range whose events outside the signal region are the sidebands",
            |w| &mut w.range,
        ),
    ];
    opts.into_iter().map(|o| o.lift(access)).collect()
}

/// `layers`, the width option `hidden` (named so, or e.g. `flow_hidden` where the classifier
/// has its own), `knots` and `bound` of the flow `access` reaches.
pub(super) fn flow_opts<T: Clone + 'static>(
    access: fn(&mut T) -> &mut FlowConfig,
    hidden: &'static str,
) -> Vec<Opt<T>> {
    let opts: Vec<Opt<FlowConfig>> = vec![
        Opt::field(
            "layers",
            "autoregressive transforms of each flow",
            |f: &mut FlowConfig| &mut f.layers,
        ),
        Opt::field(
            hidden,
            "units in each of the two masked hidden layers of every transform",
            |f| &mut f.hidden,
        ),
        Opt::field("knots", "spline bins per dimension", |f| &mut f.knots),
        Opt::field(
            "bound",
            "the splines act on [-bound, bound] and are the identity outside",
            |f| &mut f.bound,
        ),
    ];
    opts.into_iter().map(|o| o.lift(access)).collect()
}
