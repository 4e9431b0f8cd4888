//! `hasim replay` (issue #13): the timelines of the hand-computed crash tests of `ha.rs` as
//! reviewed snapshots, so a behaviour change shows as a readable diff; their instants checked
//! against the hand computation; the policy log fed back through `hasim policy`; and the
//! recorder changing no number.

use crate::ha::{scenario, RESUME, TRACE};
use crate::support::{hasim, scratch, stderr, stdout};
use hasim::engine::LogEntry;
use hasim::metrics::ledger::VmState;
use hasim::replay::{replay, text, Filter};
use hasim::scenario::load;
use hasim::scenario::model::Model;

fn crash_model(policy: &str) -> Model {
    let dir = scratch(&format!("replay_{policy}"));
    std::fs::write(dir.join("one_crash.tab"), TRACE).unwrap();
    let path = dir.join("s.toml");
    // Without HA, guests come back with their host only with Nova's resume option.
    let mut text = scenario(policy, "");
    if policy == "none" {
        text = text.replace("[nova]\n", &format!("[nova]\n{RESUME}\n"));
    }
    std::fs::write(&path, text).unwrap();
    load(&path, &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// Seconds after the crash (T = 1 h) at which each VM of host 0 was running again, sorted.
fn back_running_s(model: &Model, entries: &[LogEntry]) -> Vec<u64> {
    let mut v: Vec<u64> = entries
        .iter()
        .filter_map(|e| match e {
            LogEntry::Vm { t, vm, to, .. }
                if *to == VmState::Running && model.placement[*vm as usize].0 == 0 =>
            {
                Some(t.as_us() / 1_000_000 - 3600)
            }
            _ => None,
        })
        .collect();
    v.sort();
    v
}

#[test]
fn crash_timelines_match_the_hand_computation_and_their_snapshots() {
    // The instants of ha.rs's module comment, read off the replay's own entries.
    for (policy, back) in [
        ("masakari", vec![286, 286, 286, 331]),
        ("instance-ha", vec![75, 75, 75, 75]),
        ("pca", vec![345, 345, 345, 345]),
        ("none", vec![7245, 7245, 7245, 7245]),
    ] {
        let model = crash_model(policy);
        let rep = replay(&model, 0);
        assert!(rep.violation.is_none());
        assert_eq!(back_running_s(&model, &rep.entries), back, "{policy}");
        let host_down_at = rep.entries.iter().find_map(|e| match e {
            LogEntry::Host {
                host: 0,
                fact: "up",
                to: "false",
                t,
                ..
            } => Some(t.as_us()),
            _ => None,
        });
        assert_eq!(
            host_down_at,
            Some(3_600_000_000),
            "{policy}: the trace's crash"
        );
        insta::assert_snapshot!(
            format!("crash_timeline_{}", policy.replace('-', "_")),
            text(&model, &rep, &Filter::default())
        );
    }
}

#[test]
fn a_vm_filter_follows_the_vm_and_keeps_the_observation_a_command_answers() {
    let model = crash_model("masakari");
    let rep = replay(&model, 0);
    let vm = (0..model.vms.len() as u32)
        .find(|v| model.placement[*v as usize].0 == 0)
        .unwrap();
    let f = Filter {
        vm: Some(vm),
        ..Filter::default()
    };
    let shown = hasim::replay::select(&model, &rep, &f);
    for e in &shown {
        if let LogEntry::Vm { vm: v, .. } = e {
            assert_eq!(*v, vm);
        }
    }
    // The evacuation of this VM is there, right after the (timer) observation it answered.
    let i = shown
        .iter()
        .position(|e| matches!(e, LogEntry::Command { command: hasim::policy::api::Command::Evacuate { vm: v, .. }, .. } if *v == vm))
        .expect("its evacuation");
    assert!(matches!(shown[i - 1], LogEntry::Observation { .. }));
    // Its host after the evacuation is another: host facts of host 0 stop once it left.
    let window = Filter {
        from: Some(hasim::core::time::SimTime(3_700_000_000)),
        to: Some(hasim::core::time::SimTime(3_800_000_000)),
        ..f
    };
    for e in hasim::replay::select(&model, &rep, &window) {
        let t = e.time().as_us();
        assert!((3_700_000_000..=3_800_000_000).contains(&t));
    }
}

#[test]
fn the_recorder_changes_no_number() {
    let model = crash_model("masakari");
    let plain = hasim::runner::run_replication(&model, 0).unwrap();
    let (logged, _, _) = hasim::engine::Simulation::new(&model, 0)
        .with_timeline()
        .with_replay_log()
        .run_logged();
    let logged = logged.unwrap();
    assert_eq!(plain.vm_time_us, logged.vm_time_us);
    assert_eq!(plain.events, logged.events);
    assert_eq!(plain.ha, logged.ha);
}

#[test]
fn the_policy_log_replays_through_hasim_policy_to_the_same_commands() {
    let dir = scratch("replay_policy_log");
    let (log, cfg) = (dir.join("obs.jsonl"), dir.join("cfg.json"));
    // The bundled masakari scenario sets a non-default option; the config file carries it.
    let o = hasim(&[
        "replay",
        "scenarios/masakari.toml",
        "--seed",
        "7",
        "--replication",
        "1",
        "--set",
        "simulation.horizon=60d",
        "--json",
        "--policy-log",
        log.to_str().unwrap(),
        "--policy-config",
        cfg.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let commands: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["kind"] == "command")
        .map(|v| serde_json::json!({ "now_us": v["t_us"], "command": v["command"] }))
        .collect();
    assert!(
        commands.len() > 10,
        "a masakari recovery: {}",
        commands.len()
    );
    let adapter = std::process::Command::new(env!("CARGO_BIN_EXE_hasim"))
        .args(["policy", "masakari", "--config", cfg.to_str().unwrap()])
        .stdin(std::fs::File::open(&log).unwrap())
        .output()
        .unwrap();
    assert!(adapter.status.success(), "{}", stderr(&adapter));
    let answered: Vec<serde_json::Value> = stdout(&adapter)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answered, commands);
}

#[test]
fn replay_commands_name_seed_replication_and_overrides() {
    let model = load(
        std::path::Path::new("scenarios/quickstart.toml"),
        &["simulation.seed=9".into(), "policy.name=masakari".into()],
    )
    .unwrap();
    assert_eq!(
        hasim::report::html::replay_command(&model, 3),
        "hasim replay scenarios/quickstart.toml --seed 9 --replication 3 --set policy.name=masakari"
    );
}
