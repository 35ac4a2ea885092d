//! Tests of `EventSet`: construction, roles, views (selections, samples, splits, folds),
//! and their errors.

use super::*;

fn events(n: usize) -> EventSet {
    let mjj: Vec<f64> = (0..n).map(|i| 2000.0 + 100.0 * i as f64).collect();
    let tau: Vec<f64> = (0..n).map(|i| (i % 10) as f64 / 10.0).collect();
    let label: Vec<f64> = (0..n).map(|i| if i % 4 == 0 { 1.0 } else { 0.0 }).collect();
    EventSet::from_columns(vec![
        ("mjj".into(), mjj),
        ("tau21_1".into(), tau),
        ("label".into(), label),
    ])
    .unwrap()
}

#[test]
fn roles_are_found_by_name_and_settable() {
    let mut ev = events(4);
    assert_eq!(ev.role_column(Role::Label), Some("label"));
    assert_eq!(ev.role_column(Role::Mass), Some("mjj"));
    assert_eq!(ev.role_column(Role::Weight), None);
    assert_eq!(ev.weights().unwrap(), vec![1.0; 4]);
    ev.set_role(Role::Weight, Some("tau21_1")).unwrap();
    assert_eq!(ev.weights().unwrap(), ev.column("tau21_1").unwrap());
    assert!(ev.set_role(Role::Mass, Some("nope")).is_err());
    // A role's column must suit it: nothing is silently dropped or misbinned later.
    let err = ev
        .set_role(Role::Label, Some("mjj"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("event 0 holds 2000; labels must be 0"),
        "{err}"
    );
    let mut bad = ev.clone();
    let mut m = bad.column("mjj").unwrap();
    m[3] = f64::NAN;
    bad = bad.with_column("mjj", m).unwrap();
    let err = bad
        .set_role(Role::Mass, Some("mjj"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("event 3 holds NaN"), "{err}");
    assert!(bad.set_role(Role::Weight, Some("tau21_1")).is_ok());
    ev.set_role(Role::Label, None).unwrap();
    assert!(
        ev.signal()
            .unwrap_err()
            .to_string()
            .contains("no column has the label role")
    );
}

#[test]
fn windows_and_sidebands_partition_the_events() {
    let ev = events(20);
    let sr = ev.window("mjj", 2500.0, 3000.0).unwrap();
    let sb = ev.outside("mjj", 2500.0, 3000.0).unwrap();
    assert_eq!(
        sr.column("mjj").unwrap(),
        vec![2500.0, 2600.0, 2700.0, 2800.0, 2900.0]
    );
    assert_eq!(sr.len() + sb.len(), ev.len());
    assert!(
        sb.column("mjj")
            .unwrap()
            .iter()
            .all(|&m| !(2500.0..3000.0).contains(&m))
    );
    let nested = sr.window("tau21_1", 0.6, 1.0).unwrap();
    assert_eq!(
        nested.column("mjj").unwrap(),
        vec![2600.0, 2700.0, 2800.0, 2900.0]
    );
    assert!(ev.window("mjj", 3.0, 1.0).is_err());
    assert!(
        ev.window("nope", 0.0, 1.0)
            .unwrap_err()
            .to_string()
            .contains("the columns are mjj, tau21_1, label")
    );
}

#[test]
fn kfold_is_a_partition_without_copies() {
    let ev = events(103)
        .with_column("id", (0..103).map(f64::from).collect())
        .unwrap();
    let folds = ev.kfold(5, 9).unwrap();
    assert_eq!(folds.len(), 5);
    let mut seen = vec![0; 103];
    for fold in &folds {
        let test = fold.test.column("id").unwrap();
        let train = fold.train.column("id").unwrap();
        assert_eq!(test.len() + train.len(), 103);
        assert!(test.len() == 20 || test.len() == 21);
        for t in &test {
            assert!(!train.contains(t), "event {t} is in both train and test");
            seen[*t as usize] += 1;
        }
        assert!(
            fold.test.rows.is_some() && fold.train.rows.is_some(),
            "folds are views"
        );
    }
    assert!(
        seen.iter().all(|&c| c == 1),
        "every event tests exactly once"
    );
    assert!(ev.kfold(1, 0).is_err());
}

#[test]
fn random_operations_are_seeded() {
    let ev = events(50);
    assert_eq!(
        ev.shuffle(3).column("mjj").unwrap(),
        ev.shuffle(3).column("mjj").unwrap()
    );
    assert_ne!(
        ev.shuffle(3).column("mjj").unwrap(),
        ev.shuffle(4).column("mjj").unwrap()
    );
    let mut shuffled = ev.shuffle(3).column("mjj").unwrap();
    shuffled.sort_by(f64::total_cmp);
    assert_eq!(shuffled, ev.column("mjj").unwrap());
    let (a, b) = ev.split(0.3, 1).unwrap();
    assert_eq!((a.len(), b.len()), (15, 35));
    let mut all = [a.column("mjj").unwrap(), b.column("mjj").unwrap()].concat();
    all.sort_by(f64::total_cmp);
    assert_eq!(all, ev.column("mjj").unwrap());
    assert_eq!(ev.sample(7, 2).unwrap().len(), 7);
    assert!(ev.sample(51, 2).is_err());
    assert!(ev.split(1.5, 0).is_err());
}

#[test]
fn sql_filters_select_rows() {
    let ev = events(20);
    let f = ev.filter("mjj > 3000 and tau21_1 < 0.5").unwrap();
    assert!(f.column("mjj").unwrap().iter().all(|&m| m > 3000.0));
    assert!(f.column("tau21_1").unwrap().iter().all(|&t| t < 0.5));
    assert_eq!(
        f.column("mjj").unwrap(),
        vec![3100.0, 3200.0, 3300.0, 3400.0]
    );
    let on_view = ev
        .window("mjj", 3000.0, 4000.0)
        .unwrap()
        .filter("label = 1")
        .unwrap();
    assert_eq!(on_view.column("mjj").unwrap(), vec![3200.0, 3600.0]);
    let err = ev.filter("mjj >").unwrap_err().to_string();
    assert!(
        err.starts_with("invalid filter condition: 'mjj >'"),
        "{err}"
    );
    let err = ev.filter("mjj + 1").unwrap_err().to_string();
    assert!(
        err.ends_with("it is not a true/false condition: it gives values of type f64"),
        "{err}"
    );
    let err = ev.filter("nope > 1").unwrap_err().to_string();
    assert!(err.contains("no column 'nope'"), "{err}");
    let rhai_style = ev.filter("mjj > 1 && mjj < 5").unwrap_err().to_string();
    assert!(rhai_style.contains("write 'and'"), "{rhai_style}");
}

#[test]
fn constant_conditions_keep_every_event_or_none() {
    // Found by QA: polars gives a constant one value, and one event was kept.
    let ev = events(20);
    for always in [
        "1 > 0",
        "true",
        "1 = 1",
        "TRUE or false",
        "mjj > 0 or 1 = 1",
    ] {
        assert_eq!(ev.filter(always).unwrap().len(), 20, "{always}");
    }
    for never in [
        "false",
        "1 = 2",
        "null",
        "NULL and true",
        "mjj > 0 and null",
        "null = 1",
    ] {
        assert_eq!(ev.filter(never).unwrap().len(), 0, "{never}");
    }
    assert_eq!(ev.filter("mjj > 0 or null").unwrap().len(), 20);
    let view = ev.window("mjj", 2000.0, 2250.0).unwrap();
    assert_eq!(view.filter("true").unwrap().len(), 3);
    assert_eq!(view.head(1).filter("1 < 2").unwrap().len(), 1);
    assert_eq!(view.head(0).filter("true").unwrap().len(), 0);
    let err = ev.filter("1 + 1").unwrap_err().to_string();
    assert!(err.contains("not a true/false condition"), "{err}");
    let err = ev.filter("mjj").unwrap_err().to_string();
    assert!(err.contains("not a true/false condition"), "{err}");
}

#[test]
fn conditions_compute_like_sql() {
    let ev = events(10);
    let mjj = |f: &str| ev.filter(f).unwrap().column("mjj").unwrap();
    assert_eq!(mjj("mjj between 2100 and 2300"), [2100.0, 2200.0, 2300.0]);
    assert_eq!(mjj("not mjj between 2100 and 2800"), [2000.0, 2900.0]);
    assert_eq!(mjj("mjj in (2000, 2500, 1)"), [2000.0, 2500.0]);
    assert_eq!(mjj("mjj not in (2000, 2500)").len(), 8);
    assert_eq!(mjj("mjj / 1000 % 1 = 0.5"), [2500.0]);
    assert_eq!(mjj("abs(tau21_1 - 0.45) < 0.1"), [2400.0, 2500.0]);
    assert_eq!(mjj("-mjj >= -2100 AND label == 1"), [2000.0]);
    assert_eq!(mjj("1 / 2 = 0.5 and sqrt(mjj) = 50"), [2500.0]);
    assert_eq!(mjj("greatest(tau21_1, 0.8) = tau21_1"), [2800.0, 2900.0]);
    assert_eq!(mjj("sign(mjj - 2500) = -1").len(), 5);
    assert_eq!(mjj("sign(mjj - 2500) = 0"), [2500.0]);
    assert_eq!(mjj("sign(mjj - 2500) = 1").len(), 4);
    assert_eq!(
        mjj("round(log10(mjj) * 100) = 334 and ln(exp(1)) = 1"),
        [2200.0]
    );
    let tagged = ev.with_column("mjj", ev.column("mjj").unwrap()).unwrap();
    assert_eq!(tagged.filter("\"mjj\" <> 2000").unwrap().len(), 9);
}

#[test]
fn the_largest_conditions_allowed_run_on_a_small_stack() {
    // Test threads have 2 MiB of stack; the limits must keep polars' recursion within it.
    let ev = events(10);
    let chain = format!("mjj > 0{}", " and mjj > 0".repeat(250));
    assert_eq!(ev.filter(&chain).unwrap().len(), 10);
    let sum = format!("mjj{} > 0", " + mjj".repeat(500));
    assert_eq!(ev.filter(&sum).unwrap().len(), 10);
    let depth = super::super::condition::MAX_DEPTH;
    let nested = format!(
        "{}mjj > 0{}",
        "not (not (".repeat(depth / 4),
        "))".repeat(depth / 4)
    );
    assert_eq!(ev.filter(&nested).unwrap().len(), 10);
}

#[test]
fn labels_select_signal_and_background() {
    let ev = events(8);
    assert_eq!(
        ev.signal().unwrap().column("mjj").unwrap(),
        vec![2000.0, 2400.0]
    );
    assert_eq!(ev.background().unwrap().len(), 6);
}

#[test]
fn columns_can_be_selected_added_and_concatenated() {
    let ev = events(3);
    let sel = ev
        .select(&["tau21_1".to_string(), "mjj".to_string()])
        .unwrap();
    assert_eq!(sel.columns(), vec!["tau21_1", "mjj"]);
    assert_eq!(sel.role_column(Role::Label), None);
    let added = ev.with_column("x", vec![1.0, 2.0, 3.0]).unwrap();
    assert_eq!(added.column("x").unwrap(), vec![1.0, 2.0, 3.0]);
    assert!(ev.with_column("x", vec![1.0]).is_err());
    let both = ev.concat(&ev.head(2)).unwrap();
    assert_eq!(both.len(), 5);
    assert!(ev.concat(&sel).is_err());
    let view_added = ev
        .window("mjj", 2050.0, 3000.0)
        .unwrap()
        .with_column("y", vec![7.0, 8.0])
        .unwrap();
    assert_eq!(view_added.column("mjj").unwrap(), vec![2100.0, 2200.0]);
}

#[test]
fn matrices_are_row_major() {
    let ev = events(2);
    let m = ev
        .matrix_f32(&["mjj".to_string(), "tau21_1".to_string()])
        .unwrap();
    assert_eq!(m, vec![2000.0, 0.0, 2100.0, 0.1]);
}

#[test]
fn display_shows_size_roles_and_rows() {
    let text = events(3).to_string();
    assert!(
        text.starts_with("EventSet: 3 events x 3 columns (label: label, mass: mjj)"),
        "{text}"
    );
    assert!(text.contains("2100"), "{text}");
}
