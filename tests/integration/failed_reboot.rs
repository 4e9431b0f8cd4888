//! Failed reboots (`[failures.reboot]`) on a hand-computed timeline: one host, crash clock
//! fixed at 1 h, repair fixed at 2 h, a 5 min host boot, guests resumed at host boot (45 s),
//! a 4 h horizon (the next crash, 1 h after the return, falls past it). Every boot fails
//! (probability 1) and takes 30 min more: the VMs are down 2 h + 5 min + 30 min + 45 s =
//! 9,345 s instead of 7,545 s, and one failed reboot is counted.

use crate::support::Fleet;
use hasim::metrics::ledger::VmState;

fn fleet(reboot: &str) -> (u64, u64) {
    let failures = format!(
        "time_between = {{ dist = \"fixed\", value = \"1h\" }}\n\
         repair = {{ dist = \"fixed\", value = \"2h\" }}\n{reboot}"
    );
    let f = Fleet {
        name: "failed_reboot",
        hosts: 1,
        vms_per_host: 2,
        horizon: "4h",
        replications: 1,
        host_boot: "5m",
        vm_boot: "45s",
        failures: &failures,
    };
    let (_, outs) = f.run_outputs();
    let t = outs[0].vm_time_us[0];
    let down = (t.iter().sum::<u64>() - t[VmState::Running as usize]) / 1_000_000;
    (down, outs[0].ha.failed_reboots)
}

#[test]
fn a_failed_reboot_adds_its_fix_to_the_outage() {
    assert_eq!(fleet(""), (7545, 0));
    let failing =
        "[failures.reboot]\nprobability = 1.0\nduration = { dist = \"fixed\", value = \"30m\" }";
    assert_eq!(fleet(failing), (9345, 1));
    let never =
        "[failures.reboot]\nprobability = 0.0\nduration = { dist = \"fixed\", value = \"30m\" }";
    assert_eq!(fleet(never), (7545, 0));
}
