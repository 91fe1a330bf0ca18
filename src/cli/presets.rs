//! `sparselabel presets`: every preset with its model, label budget, epochs,
//! expected wall time on 2 cores, the paper's number and the one we measured.

use crate::train::PRESETS;
use crate::Result;

/// Prints the table of presets.
pub fn run() -> Result<()> {
    println!(
        "{:<22} {:<6} {:>9} {:>7} {:<9} {:<30} {:<44} summary",
        "preset", "model", "labels", "epochs", "time", "paper", "measured"
    );
    for p in PRESETS {
        let c = (p.config)();
        let labels = match (c.labels_per_class, c.label_fraction) {
            (Some(n), _) => format!("{}/class", n),
            (None, Some(f)) => format!("{:.0} %", f * 100.0),
            _ => "none".into(),
        };
        println!(
            "{:<22} {:<6} {:>9} {:>7} {:<9} {:<30} {:<44} {}",
            p.name, c.model, labels, c.epochs, p.wall_time, p.paper, p.measured, p.summary
        );
    }
    Ok(())
}
