//! The measurement of docs/cwola.md: on 1M background-only events of the toy with jet masses
//! proportional to mjj (and, for comparison, the default toy), each rescaling's largest
//! feature tail pulls (`methods::cwola::tail_pulls`, over the 10 signal regions and both
//! tails), then the global p-value of a background-only CWoLa hunt per rescaling on the
//! mass-scaling toy (3 folds, one initialisation, the layout of scripts/pythia_study.rhai).
//! Slow: about 15 minutes per hunt on two shared cores.
//! Run: `nice cargo bench --bench cwola_rescaling [-- EPOCHS]` (default 5 epochs).

use bumplab::data::eventset::EventSet;
use bumplab::data::generate::lhco::{LhcoToyOptions, MJ_PROPORTIONAL_POWER, lhco_toy};
use bumplab::methods::cwola::{CwolaOptions, Rescaling, cwola_hunt, tail_pulls};

fn main() -> bumplab::Result<()> {
    let epochs = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(5);
    for (label, power) in [
        ("default toy", 0.0),
        ("mass-scaling toy", MJ_PROPORTIONAL_POWER),
    ] {
        let events = EventSet::from_columns(lhco_toy(&LhcoToyOptions {
            background: 1_000_000,
            signal: 0,
            mj_mjj_power: power,
            seed: 41,
            ..LhcoToyOptions::default()
        })?)?;
        for rescaling in Rescaling::ALL {
            let opts = CwolaOptions {
                rescaling,
                ..CwolaOptions::default()
            };
            let mut worst: Vec<(String, f64)> =
                opts.features.iter().map(|f| (f.clone(), 0.0)).collect();
            for index in 0..10 {
                for q in [0.1, 0.9] {
                    for (j, (_, pull)) in tail_pulls(&events, &opts, index, q)?
                        .into_iter()
                        .enumerate()
                    {
                        if pull.abs() > worst[j].1.abs() {
                            worst[j].1 = pull;
                        }
                    }
                }
            }
            println!(
                "{label} (mj_mjj_power {power}), {}: largest tail pulls over 10 regions x \
                 (10 %, 90 %): {worst:?}",
                rescaling.name()
            );
        }
        if power == 0.0 {
            continue;
        }
        for rescaling in Rescaling::ALL {
            let mut opts = CwolaOptions {
                rescaling,
                folds: 3,
                inits: 1,
                ..CwolaOptions::default()
            };
            opts.training.epochs = epochs;
            let hunt = cwola_hunt(&events, &opts, None)?;
            let Some(g) = hunt.global() else {
                println!(
                    "{label}, {}: no test could be ranked\n{hunt}",
                    rescaling.name()
                );
                continue;
            };
            println!(
                "{label}, {}: {epochs} epochs, {:.0} s; global p {:.3e} (Z {:.2}), local Z \
                 {:.2} in region {} at efficiency {}",
                rescaling.name(),
                hunt.seconds,
                g.test.global_p,
                g.test.global_z,
                g.test.local_z,
                g.region,
                g.test.efficiency
            );
            println!("{hunt}");
        }
    }
    Ok(())
}
