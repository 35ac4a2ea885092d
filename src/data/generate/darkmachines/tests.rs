//! Tests of the Dark-Machines-like generator.

use std::f64::consts::PI;

use super::catalog::{Setup, count_jets, is_jet};
use super::decays::{M_B, M_TOP, M_W, Particle, ZDecay, parton};
use super::detector::{
    BTAG_ETA_MAX, JET_ETA_MAX, JET_PT_MIN, LEPTON_ETA_MAX, LEPTON_PT_MIN, PHOTON_PT_MIN,
    reconstruct,
};
use super::kinematics::{KINEMATIC_POWER, P4, Rng, SQRT_S, decay2, falling};
use super::processes::{background_truth, signal_truth, with_isr, z_jets};
use super::*;
use crate::data::encode::object_events;
use crate::data::generate::CHUNK;
use crate::data::objects::{MAX_OBJECTS, Object, ObjectType};
use crate::seed::rng_for;

fn column<'a>(cols: &'a NamedColumns, name: &str) -> &'a [f64] {
    &cols.iter().find(|(n, _)| n == name).unwrap().1
}

fn options(
    channel: Channel,
    background: usize,
    signal: usize,
    model: SignalModel,
) -> DarkMachinesToyOptions {
    DarkMachinesToyOptions {
        channel,
        background,
        signal,
        signal_model: model,
        seed: 11,
    }
}

/// The events of `cols` split into background and signal.
fn split(cols: &NamedColumns) -> (Vec<ObjectEvent>, Vec<ObjectEvent>) {
    let events = object_events(cols).unwrap();
    let label = column(cols, "label");
    let (mut bg, mut sig) = (Vec::new(), Vec::new());
    for (event, &l) in events.into_iter().zip(label) {
        if l == 1.0 {
            sig.push(event)
        } else {
            bg.push(event)
        }
    }
    (bg, sig)
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0), |(s, n), v| (s + v, n + 1));
    sum / n as f64
}

/// The selection of the Deep Set VAE paper, section 2, written out again independently.
fn passes_independently(channel: Channel, event: &ObjectEvent) -> bool {
    let mut ht = 0.0;
    let (mut jets50, mut jets200, mut leptons) = (0, 0, 0);
    for o in &event.objects {
        match o.kind.code() {
            1 | 2 => {
                ht += o.pt;
                jets50 += usize::from(o.pt >= 50.0);
                jets200 += usize::from(o.pt >= 200.0);
            }
            3..=6 => leptons += usize::from(o.pt >= 15.0),
            _ => {}
        }
    }
    let met = event.met;
    match channel.name() {
        "1" => ht >= 600.0 && met >= 200.0 && met / ht >= 0.2 && jets50 >= 4 && jets200 >= 1,
        "2a" => leptons >= 3 && met >= 50.0,
        "2b" => leptons >= 2 && met >= 50.0 && ht >= 50.0,
        _ => ht >= 600.0 && met >= 100.0,
    }
}

/// Whether an opposite-sign same-flavour lepton pair has its invariant mass in `window`.
fn ossf_mass(event: &ObjectEvent, window: (f64, f64)) -> bool {
    let p4 = |o: &Object| {
        [
            o.e,
            o.pt * o.phi.cos(),
            o.pt * o.phi.sin(),
            o.pt * o.eta.sinh(),
        ]
    };
    let pairs = [
        (ObjectType::Electron, ObjectType::Positron),
        (ObjectType::Muon, ObjectType::AntiMuon),
    ];
    event.objects.iter().any(|a| {
        event.objects.iter().any(|b| {
            pairs.contains(&(a.kind, b.kind)) && {
                let (x, y) = (p4(a), p4(b));
                let s: Vec<f64> = (0..4).map(|i| x[i] + y[i]).collect();
                let m = (s[0] * s[0] - s[1] * s[1] - s[2] * s[2] - s[3] * s[3])
                    .max(0.0)
                    .sqrt();
                (window.0..window.1).contains(&m)
            }
        })
    })
}

#[test]
fn names_parse_and_errors_list_the_allowed_values() {
    for c in Channel::ALL {
        assert_eq!(Channel::parse(c.name()).unwrap(), c);
    }
    for m in SignalModel::ALL {
        assert_eq!(SignalModel::parse(m.name()).unwrap(), m);
    }
    let err = Channel::parse("4").unwrap_err().to_string();
    assert!(
        err.contains("'4'") && err.contains("\"2a\"") && err.contains("\"3\""),
        "{err}"
    );
    let err = SignalModel::parse("wprime").unwrap_err().to_string();
    assert!(
        err.contains("wprime") && err.contains("\"stop_bjets\"") && err.contains("\"zprime_ll\""),
        "{err}"
    );
}

#[test]
fn bad_options_are_errors() {
    let err = darkmachines_toy(&options(Channel::Ch1, 0, 0, SignalModel::StopBjets))
        .unwrap_err()
        .to_string();
    assert!(err.contains("at least one event"), "{err}");
    let err = darkmachines_toy(&options(Channel::Ch1, 10, 10, SignalModel::ZprimeLl))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("zprime_ll") && err.contains("gluino_jets_met, stop_bjets"),
        "{err}"
    );
    let err = darkmachines_toy(&options(
        Channel::Ch3,
        MAX_EVENTS,
        1,
        SignalModel::StopBjets,
    ))
    .unwrap_err();
    assert!(err.to_string().contains("more than"), "{err}");
    // Without signal events the model does not matter.
    assert!(darkmachines_toy(&options(Channel::Ch1, 10, 0, SignalModel::ZprimeLl)).is_ok());
}

#[test]
fn deterministic_and_independent_of_the_thread_count() {
    let opts = options(Channel::Ch2b, CHUNK + 300, 200, SignalModel::StopBjets);
    let parallel = darkmachines_toy(&opts).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let serial = pool.install(|| darkmachines_toy(&opts).unwrap());
    assert!(parallel == serial);
    let other = darkmachines_toy(&DarkMachinesToyOptions {
        seed: 12,
        ..opts.clone()
    })
    .unwrap();
    assert!(column(&other, "met") != column(&parallel, "met"));
    // The background does not depend on the number of signal events.
    let fewer = darkmachines_toy(&DarkMachinesToyOptions { signal: 0, ..opts }).unwrap();
    assert_eq!(
        column(&fewer, "obj0_pt"),
        &column(&parallel, "obj0_pt")[..CHUNK + 300]
    );
}

#[test]
fn events_pass_their_channel_and_follow_the_layout() {
    for (channel, model) in [
        (Channel::Ch1, SignalModel::GluinoJetsMet),
        (Channel::Ch2a, SignalModel::CharginoNeutralino3l),
        (Channel::Ch2b, SignalModel::ZprimeLl),
        (Channel::Ch3, SignalModel::StopBjets),
    ] {
        let cols = darkmachines_toy(&options(channel, 600, 200, model)).unwrap();
        assert_eq!(cols.len(), 3 + 5 * MAX_OBJECTS + 3);
        let events = object_events(&cols).unwrap();
        assert_eq!(events.len(), 800);
        let label = column(&cols, "label");
        let process = column(&cols, "process");
        assert!(column(&cols, "weight").iter().all(|&w| w == 1.0));
        for (i, event) in events.iter().enumerate() {
            assert!(
                passes_independently(channel, event),
                "channel {}: {event:?}",
                channel.name()
            );
            assert_eq!(label[i], if i < 600 { 0.0 } else { 1.0 });
            let code = process[i] as u32;
            if i < 600 {
                assert!(
                    channel
                        .background_mix()
                        .iter()
                        .any(|(p, _)| p.code() == code)
                );
            } else {
                assert_eq!(code, model.process_id());
            }
            check_objects(event);
        }
    }
}

fn check_objects(event: &ObjectEvent) {
    assert!(event.objects.len() <= MAX_OBJECTS);
    assert!(event.met >= 0.0 && event.met_phi.abs() <= PI);
    for pair in event.objects.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        assert!(
            a.kind < b.kind || (a.kind == b.kind && a.pt >= b.pt),
            "order: {event:?}"
        );
    }
    for o in &event.objects {
        let cosh = o.pt * o.eta.cosh();
        assert!(o.phi.abs() <= PI);
        if is_jet(o.kind) {
            assert!(o.pt >= JET_PT_MIN && o.eta.abs() < JET_ETA_MAX && o.e >= cosh);
            assert!(o.e <= 1.01 * cosh + M_B, "jets are light: {o:?}");
        } else {
            let pt_min = if o.kind == ObjectType::Photon {
                PHOTON_PT_MIN
            } else {
                LEPTON_PT_MIN
            };
            assert!(o.pt >= pt_min && o.eta.abs() < LEPTON_ETA_MAX);
            assert!((o.e - cosh).abs() <= 1e-9 * o.e, "massless: {o:?}");
        }
        if o.kind == ObjectType::BJet {
            assert!(o.eta.abs() < BTAG_ETA_MAX);
        }
    }
}

#[test]
fn the_background_follows_the_channel_mix() {
    let cols = darkmachines_toy(&options(Channel::Ch3, 5000, 0, SignalModel::StopBjets)).unwrap();
    let process = column(&cols, "process");
    for &(p, fraction) in Channel::Ch3.background_mix() {
        let found = process
            .iter()
            .filter(|&&c| c == f64::from(p.code()))
            .count() as f64
            / 5000.0;
        assert!(
            (found - fraction).abs() < 0.03,
            "{}: {found} vs {fraction}",
            p.name()
        );
    }
}

#[test]
fn z_bosons_peak_at_the_z_mass() {
    let setup = Channel::Ch2b.setup();
    let mut rng = rng_for(4, 0);
    let (mut pairs, mut peak) = (0, 0);
    for _ in 0..2000 {
        let truth = z_jets(&mut rng, &setup, ZDecay::Charged);
        let event = reconstruct(&mut rng, &truth);
        pairs += usize::from(ossf_mass(&event, (0.0, f64::INFINITY)));
        peak += usize::from(ossf_mass(&event, (81.0, 101.0)));
    }
    assert!(
        pairs > 1500 && peak as f64 > 0.9 * pairs as f64,
        "{pairs} pairs, {peak} in the peak"
    );
}

#[test]
fn zprime_is_a_dilepton_resonance() {
    let cols = darkmachines_toy(&options(Channel::Ch2b, 3000, 500, SignalModel::ZprimeLl)).unwrap();
    let (bg, sig) = split(&cols);
    let fraction = |events: &[ObjectEvent]| {
        events
            .iter()
            .filter(|e| ossf_mass(e, (900.0, 1100.0)))
            .count() as f64
            / events.len() as f64
    };
    let (f_bg, f_sig) = (fraction(&bg), fraction(&sig));
    assert!(
        f_sig > 0.8 && f_bg < 0.01,
        "signal {f_sig}, background {f_bg}"
    );
}

#[test]
fn gluinos_give_many_jets_and_large_met() {
    let cols = darkmachines_toy(&options(
        Channel::Ch1,
        3000,
        500,
        SignalModel::GluinoJetsMet,
    ))
    .unwrap();
    let (bg, sig) = split(&cols);
    let jets = |events: &[ObjectEvent]| mean(events.iter().map(|e| count_jets(e, 50.0) as f64));
    let met = |events: &[ObjectEvent]| mean(events.iter().map(|e| e.met));
    assert!(
        jets(&sig) > jets(&bg) + 1.0,
        "jets: signal {}, background {}",
        jets(&sig),
        jets(&bg)
    );
    assert!(
        met(&sig) > 1.5 * met(&bg),
        "MET: signal {}, background {}",
        met(&sig),
        met(&bg)
    );
}

#[test]
fn stops_give_b_jets_and_leptons_with_large_met() {
    let cols =
        darkmachines_toy(&options(Channel::Ch2b, 3000, 500, SignalModel::StopBjets)).unwrap();
    let (bg, sig) = split(&cols);
    let met = |events: &[ObjectEvent]| mean(events.iter().map(|e| e.met));
    let tagged = |events: &[ObjectEvent]| {
        mean(events.iter().map(|e| {
            f64::from(u8::from(
                e.objects.iter().any(|o| o.kind == ObjectType::BJet),
            ))
        }))
    };
    assert!(
        met(&sig) > 2.0 * met(&bg),
        "MET: signal {}, background {}",
        met(&sig),
        met(&bg)
    );
    assert!(
        tagged(&sig) > 0.7 && tagged(&sig) > tagged(&bg) + 0.2,
        "b-tagged: {} vs {}",
        tagged(&sig),
        tagged(&bg)
    );
}

#[test]
fn charginos_give_three_leptons_with_more_met_than_wz() {
    let cols = darkmachines_toy(&options(
        Channel::Ch2a,
        3000,
        500,
        SignalModel::CharginoNeutralino3l,
    ))
    .unwrap();
    let (bg, sig) = split(&cols);
    let met = |events: &[ObjectEvent]| mean(events.iter().map(|e| e.met));
    assert!(
        met(&sig) > 1.5 * met(&bg),
        "MET: signal {}, background {}",
        met(&sig),
        met(&bg)
    );
}

#[test]
fn four_vectors_and_decays_conserve_momentum() {
    let mut rng = rng_for(1, 2);
    let parent = P4::from_pt_y_phi_m(0.0, 0.7, 1.0, M_TOP);
    let (a, b) = decay2(&mut rng, parent, M_B, M_W);
    let sum = a.add(b);
    for (x, y) in [
        (sum.e, parent.e),
        (sum.px, parent.px),
        (sum.py, parent.py),
        (sum.pz, parent.pz),
    ] {
        assert!((x - y).abs() < 1e-9 * parent.e);
    }
    assert!((a.mass() - M_B).abs() < 1e-6 && (b.mass() - M_W).abs() < 1e-6);
    // ISR keeps the whole event balanced in the transverse plane.
    let hard = vec![parton(a, true), parton(b, false)];
    let hard_mass = sum.mass();
    let all = with_isr(&mut rng, hard, 2000.0);
    let total = all.iter().fold(P4::default(), |s, p| s.add(p.p));
    assert!(total.pt() < 1e-6 * total.e, "{total:?}");
    assert!((all[0].p.add(all[1].p).mass() - hard_mass).abs() < 1e-6 * hard_mass);
}

#[test]
fn spectra_follow_their_density_up_to_the_kinematic_limit() {
    let (min, scale, index) = (200.0, 80.0, 4.0);
    let density = |x: f64| {
        (1.0 + (x - min) / scale).powf(-index) * (1.0 - 2.0 * x / SQRT_S).powf(KINEMATIC_POWER)
    };
    // P(x > c) by the midpoint rule on a fine grid up to sqrt(s)/2.
    let steps = 200_000;
    let dx = (SQRT_S / 2.0 - min) / steps as f64;
    let mass_above = |c: f64| -> f64 {
        (0..steps)
            .map(|i| min + (i as f64 + 0.5) * dx)
            .filter(|&x| x > c)
            .map(density)
            .sum::<f64>()
    };
    let total = mass_above(min);
    let mut rng = rng_for(8, 0);
    let n = 400_000;
    let draws: Vec<f64> = (0..n)
        .map(|_| falling(&mut rng, min, scale, index))
        .collect();
    assert!(draws.iter().all(|&x| (min..SQRT_S / 2.0).contains(&x)));
    for c in [300.0, 600.0, 1200.0, 2500.0] {
        let p = mass_above(c) / total;
        let seen = draws.iter().filter(|&&x| x > c).count() as f64 / n as f64;
        let sigma = (p * (1.0 - p) / n as f64).sqrt();
        assert!(
            (seen - p).abs() < 5.0 * sigma + 1e-6,
            "P(x > {c}) = {seen}, want {p}"
        );
    }
    // Without the fall-off, a pure power law puts (1 + 2300/80)^-3 = 4e-5 above 2.5 TeV;
    // the kinematic factor removes most of it.
    assert!(mass_above(2500.0) / total < 0.2 * (1.0 + 2300.0 / 80.0f64).powf(-3.0));
}

/// A generator of one event's truth particles.
type Truth = dyn Fn(&mut Rng, &Setup) -> Vec<Particle>;

/// The selection efficiencies that `docs/darkmachines.md` tabulates (measured on 20 000 truth
/// events of every process and channel, seed 5) hold: each cell of the table, recomputed on
/// the first 4000 of those events, within 4 binomial standard deviations (plus the table's
/// rounding). Rows and columns are read from the document, so a changed generator fails here
/// until the table is measured again.
#[test]
fn the_documented_selection_efficiencies_hold() {
    let n = 4000;
    let efficiency = |channel: Channel, truth: &Truth| {
        let setup = channel.setup();
        let mut rng = rng_for(5, 0);
        let passed = (0..n)
            .filter(|_| {
                let particles = truth(&mut rng, &setup);
                channel.passes(&reconstruct(&mut rng, &particles))
            })
            .count();
        passed as f64 / n as f64
    };
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/darkmachines.md"))
        .unwrap();
    let table: Vec<Vec<&str>> = doc
        .lines()
        .skip_while(|l| !l.starts_with("| process | ch 1 |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    assert_eq!(
        table.len(),
        Process::ALL.len() + SignalModel::ALL.len(),
        "{table:?}"
    );
    let mut checked = 0;
    for row in &table {
        let truth: Box<Truth> = if let Some(&p) = Process::ALL.iter().find(|p| p.name() == row[0]) {
            Box::new(move |r, s| background_truth(r, p, s))
        } else {
            let m = SignalModel::parse(row[0]).unwrap();
            Box::new(move |r, s| signal_truth(r, m, s))
        };
        for (&channel, cell) in Channel::ALL.iter().zip(&row[1..]) {
            let Some(percent) = cell.trim_matches(['(', ')', '%']).parse::<f64>().ok() else {
                continue;
            };
            let want = percent / 100.0;
            let seen = efficiency(channel, &*truth);
            let sigma = (want * (1.0 - want) / n as f64).sqrt();
            assert!(
                (seen - want).abs() <= 4.0 * sigma + 0.0005,
                "{} in channel {}: {seen:.4}, the table says {want}",
                row[0],
                channel.name()
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked} cells checked");
}
