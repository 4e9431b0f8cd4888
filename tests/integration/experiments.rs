//! compare and sweep end to end, pairing on common random numbers, order independence of
//! replications, streaming replications to a sink (bounded, in order, stopping on error), and
//! the coverage of the 95 % interval.

use crate::support::{hasim, run_text, scratch, stderr, stdout, Fleet};
use hasim::runner::{run, run_replication, run_streaming, summarise, RunError};
use hasim::scenario::load;
use std::path::Path;

#[test]
fn comparing_a_policy_with_itself_gives_exactly_zero() {
    let dir = scratch("exp_self_compare");
    let o = hasim(&[
        "compare",
        "scenarios/rack_outages.toml",
        "--policy",
        "none",
        "--policy",
        "none",
        "-n",
        "6",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut rdr = csv::Reader::from_path(dir.join("compare.csv")).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let mut rows = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        assert_eq!(&rec[col("mean_diff")], "0.0", "{rec:?}");
        assert_eq!(&rec[col("paired_ci95_low")], "0.0");
        assert_eq!(&rec[col("paired_ci95_high")], "0.0");
        rows += 1;
    }
    assert!(rows > 10);
    for f in [
        "compare_downtime.svg",
        "compare_downtime.png",
        "compare_availability.svg",
        "compare_availability.png",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    assert!(stdout(&o).contains("vm_availability"));
}

#[test]
fn compare_needs_two_known_policies() {
    let two = hasim(&["compare", "scenarios/quickstart.toml", "--policy", "none"]);
    assert_eq!(two.status.code(), Some(2), "{}", stderr(&two));
    let unknown = hasim(&[
        "compare",
        "scenarios/quickstart.toml",
        "--policy",
        "none",
        "--policy",
        "masakri",
    ]);
    assert_eq!(unknown.status.code(), Some(3));
    assert!(
        stderr(&unknown).contains("policy.name: \"masakri\" is not one of"),
        "{}",
        stderr(&unknown)
    );
}

/// Common random numbers at work: two configurations that differ only in VM boot time, run on
/// the same seed, differ far less noisily per replication than across replications.
#[test]
fn pairing_on_common_random_numbers_narrows_the_interval() {
    let base = std::fs::read_to_string("scenarios/quickstart.toml").unwrap();
    let dir = scratch("exp_pairing");
    let path = crate::support::write_scenario(&dir, "q", &base);
    // Guests boot with their host only when Nova resumes them (the boot time is moot else).
    let resume = "nova.resume_guests_state_on_host_boot=true".to_string();
    let a = load(
        &path,
        &["simulation.replications=12".into(), resume.clone()],
    )
    .unwrap();
    let b = load(
        &path,
        &[
            "simulation.replications=12".into(),
            "workloads.web.boot_time=10m".into(),
            resume,
        ],
    )
    .unwrap();
    let c = hasim::compare::compare(&a, &b, Some(2)).unwrap();
    let (_, _, d) = c
        .rows
        .iter()
        .find(|r| r.0 == "downtime_min_per_vm_year_mean")
        .unwrap();
    let (pl, ph) = d.paired_ci95.unwrap();
    let (ul, uh) = d.unpaired_ci95.unwrap();
    eprintln!("boot 45s -> 10m, downtime_min_per_vm_year_mean B-A: paired [{pl:.3}, {ph:.3}], unpaired [{ul:.3}, {uh:.3}], correlation {:?}", d.correlation);
    assert!(
        ph - pl < (uh - ul) / 3.0,
        "paired [{pl}, {ph}] vs unpaired [{ul}, {uh}]"
    );
    assert!(d.correlation.unwrap() > 0.9);
    // Each crash costs every VM 9 min 15 s more boot; about one crash per host-year.
    assert!(pl > 5.0 && ph < 15.0, "[{pl}, {ph}]");
}

#[test]
fn sweep_writes_a_tidy_table_and_a_chart_per_metric() {
    let dir = scratch("exp_sweep");
    let o = hasim(&[
        "sweep",
        "scenarios/quickstart.toml",
        "-n",
        "3",
        "--out",
        dir.to_str().unwrap(),
        "--grid",
        "failures.host.time_between.mean=2000h,8760h",
        "--grid",
        "topology.hosts_per_rack=16,20",
        "--metric",
        "vm_availability",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut rdr = csv::Reader::from_path(dir.join("sweep.csv")).unwrap();
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        &headers[..3],
        [
            "point",
            "failures.host.time_between.mean",
            "topology.hosts_per_rack"
        ]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let avail: Vec<&csv::StringRecord> =
        rows.iter().filter(|r| &r[3] == "vm_availability").collect();
    assert_eq!(avail.len(), 4, "one row per point and metric");
    // More frequent crashes cost availability at either fleet size.
    let mean = |p: &str| {
        avail.iter().find(|r| &r[0] == p).unwrap()[4]
            .parse::<f64>()
            .unwrap()
    };
    assert!(mean("0") < mean("2") && mean("1") < mean("3"));
    assert!(
        dir.join("sweep_vm_availability.svg").is_file()
            && dir.join("sweep_vm_availability.png").is_file()
    );
    let bad = hasim(&[
        "sweep",
        "scenarios/quickstart.toml",
        "--grid",
        "topology.hosts_per_rack=16,zero",
    ]);
    assert_eq!(bad.status.code(), Some(3));
    assert!(
        stderr(&bad).contains("(--grid topology.hosts_per_rack=zero)"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn replications_run_in_any_order_combine_to_the_same_result() {
    let model = load(
        Path::new("scenarios/rack_outages.toml"),
        &["simulation.replications=5".into()],
    )
    .unwrap();
    let forward = run(&model, Some(1)).unwrap();
    let mut backward: Vec<_> = (0..5)
        .rev()
        .map(|r| run_replication(&model, r).unwrap())
        .collect();
    backward.reverse();
    let again = summarise(&model, backward);
    assert_eq!(forward.metrics, again.metrics);
    assert_eq!(forward.per_replication, again.per_replication);
}

/// The runner hands outputs over in order and never runs more than workers + 2 replications
/// ahead of the sink, however slow the sink is.
#[test]
fn streaming_runs_at_most_a_window_ahead_of_a_slow_sink() {
    use std::sync::atomic::{AtomicU32, Ordering};
    let model = load(
        Path::new("scenarios/quickstart.toml"),
        &["simulation.replications=12".into()],
    )
    .unwrap();
    let done = AtomicU32::new(0);
    let mut seen = Vec::new();
    let r = run_streaming(
        &model,
        Some(2),
        &|| {
            done.fetch_add(1, Ordering::SeqCst);
        },
        &mut |out| {
            let finished = done.load(Ordering::SeqCst);
            assert!(
                finished <= out.replication + 4,
                "{finished} replications finished while the sink is at {}",
                out.replication
            );
            seen.push(out.replication);
            std::thread::sleep(std::time::Duration::from_millis(20));
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(seen, (0..12).collect::<Vec<_>>());
    let plain = run(&model, Some(1)).unwrap();
    assert_eq!(r.per_replication, plain.per_replication);
    assert_eq!(r.metrics, plain.metrics);
    assert_eq!(r.replications, plain.replications);
}

/// A sink's error ends the run with that error; later replications never reach the sink.
#[test]
fn a_failing_sink_stops_the_run() {
    let model = load(
        Path::new("scenarios/quickstart.toml"),
        &["simulation.replications=10".into()],
    )
    .unwrap();
    let mut calls = 0;
    let r = run_streaming(&model, Some(2), &|| {}, &mut |out| {
        calls += 1;
        if out.replication == 3 {
            return Err(std::io::Error::other("disk full"));
        }
        Ok(())
    });
    match r {
        Err(RunError::Sink(e)) => assert_eq!(e.to_string(), "disk full"),
        other => panic!("expected the sink's error, got {:?}", other.err()),
    }
    assert_eq!(calls, 4);
}

/// A panicking sink stops the workers and the panic reaches the caller (no worker waits forever
/// for the window to move).
#[test]
fn a_panicking_sink_propagates_its_panic() {
    let model = load(
        Path::new("scenarios/quickstart.toml"),
        &["simulation.replications=10".into()],
    )
    .unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_streaming(&model, Some(2), &|| {}, &mut |out| {
            assert!(out.replication < 1, "sink gives up");
            Ok(())
        })
    }));
    assert!(r.is_err());
}

/// Tables streamed into a directory appear there only when committed; a run that fails drops
/// them and leaves no file, temporary or final.
#[test]
fn streamed_tables_appear_only_on_commit() {
    let model = load(
        Path::new("scenarios/quickstart.toml"),
        &["simulation.replications=2".into()],
    )
    .unwrap();
    let dir = scratch("exp_tables_commit");
    let listing = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let mut tables = hasim::report::run_tables::RunTables::create(&dir, &model).unwrap();
    let out = run_replication(&model, 0).unwrap();
    tables.write(&out).unwrap();
    assert_eq!(listing().len(), 2, "two temporary files while running");
    assert!(listing().iter().all(|n| n.contains(".tmp-")));
    drop(tables);
    assert!(listing().is_empty(), "{:?}", listing());
    let mut tables = hasim::report::run_tables::RunTables::create(&dir, &model).unwrap();
    tables.write(&out).unwrap();
    tables.commit().unwrap();
    assert_eq!(listing(), vec!["hosts.csv", "vms.csv"]);
    let vms = std::fs::read_to_string(dir.join("vms.csv")).unwrap();
    assert_eq!(vms.lines().count(), 1 + model.vms.len());
}

/// 200 independent seeds of a scenario with a closed-form availability: the 95 % interval
/// should contain the truth about 95 % of the time (binomial 3-sigma band 0.904..0.996).
#[test]
fn ci95_covers_the_closed_form_truth_about_95_percent_of_the_time() {
    let (mttf, mttr, b_h, b_v): (f64, f64, f64, f64) = (500.0, 10.0, 0.25, 0.0);
    let truth = mttf * (-b_v / mttf).exp() / (mttf + mttr + b_h);
    let fleet = Fleet {
        name: "coverage",
        hosts: 8,
        vms_per_host: 1,
        horizon: "20000h",
        replications: 10,
        host_boot: "15m",
        vm_boot: "0s",
        failures: r#"time_between = { dist = "exponential", mean = "500h" }
repair = { dist = "exponential", mean = "10h" }"#,
    };
    let base = fleet.text();
    let mut covered = 0;
    for seed in 1..=200u64 {
        let text = base.replace("seed = 7", &format!("seed = {seed}"));
        let r = run_text("coverage", &text, Some(2));
        let (lo, hi) = r.metrics["vm_availability"].ci95.unwrap();
        if lo <= truth && truth <= hi {
            covered += 1;
        }
    }
    let rate = f64::from(covered) / 200.0;
    eprintln!("coverage of the 95 % interval over 200 seeds: {rate}");
    assert!((0.904..=0.996).contains(&rate), "coverage {rate}");
}

/// Two real policies on the same failures: every replication of both arms sees the same
/// crashes, rack outages, partitions and BMC faults, so the paired interval of the difference
/// is far narrower than the unpaired one on the same data.
#[test]
fn comparing_two_policies_pairs_on_the_same_failures() {
    let model = |p: &str| {
        load(
            Path::new("scenarios/ha_comparison.toml"),
            &[
                "simulation.replications=8".into(),
                format!("policy.name={p}"),
            ],
        )
        .unwrap()
    };
    let c = hasim::compare::compare(&model("masakari"), &model("instance-ha"), Some(2)).unwrap();
    let row = |name: &str| {
        c.rows
            .iter()
            .find(|r| r.0 == name)
            .map(|r| r.2.clone())
            .unwrap()
    };
    let d = row("downtime_min_per_vm_year_mean");
    let (pl, ph) = d.paired_ci95.unwrap();
    let (ul, uh) = d.unpaired_ci95.unwrap();
    eprintln!("masakari -> instance-ha downtime B-A: paired [{pl:.2}, {ph:.2}], unpaired [{ul:.2}, {uh:.2}]");
    assert!(ph - pl < (uh - ul) / 5.0);
    // Instance HA skips Masakari's 180 s wait: less downtime, and the pairing can tell.
    assert!(ph < 0.0, "paired interval [{pl}, {ph}] excludes zero");
    assert!(
        ul < 0.0 && uh > 0.0,
        "the unpaired interval on the same data cannot tell"
    );
    // Identical failure draws: the failures neither policy controls are equal in both arms.
    assert_eq!(row("host_failures").mean_diff, 0.0);
    assert_eq!(row("fencing_failures").mean_diff, 0.0);
}
