//! The declared options of a search's window (see `declared.rs`): the mass column, the signal
//! region and the range whose rest are the sidebands, shared by every built-in that searches
//! one window (SALAD, ANODE, the references). Each built-in declares `features` itself,
//! since setting them also sets its networks' inputs.

use super::declared::Opt;
use crate::methods::window::Window;

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
