//! The model-independent figures of a finished run, written into
//! `figures/`: `confusion.png` (test confusion matrix) and `curves.png`
//! (losses and validation/test accuracy per epoch, from metrics.jsonl).

use super::evaluate::EvalMetrics;
use super::run_dir::RunDir;
use crate::data::Dataset;
use crate::viz;
use crate::Result;

/// Writes `figures/confusion.png` and `figures/curves.png`. Columns are the
/// model's classes, named by `column_name` (the dataset class a model class
/// stands for, or an extra cluster's name).
pub fn write(
    run: &RunDir,
    test: &EvalMetrics,
    test_set: &Dataset,
    model: &str,
    column_name: &dyn Fn(usize) -> String,
) -> Result<()> {
    let rows = test.confusion.len();
    let cols = test.confusion.first().map(|r| r.len()).unwrap_or(0);
    let counts: Vec<u64> = test.confusion.iter().flatten().copied().collect();
    let row_names: Vec<String> = (0..rows)
        .map(|i| {
            test_set
                .class_names
                .get(i)
                .cloned()
                .unwrap_or_else(|| i.to_string())
        })
        .collect();
    let col_names: Vec<String> = (0..cols).map(column_name).collect();
    let title = format!(
        "{model}: test confusion (accuracy {:.2} %)",
        100.0 * test.accuracy
    );
    viz::heatmap::confusion(
        &run.file("figures/confusion.png"),
        &title,
        &counts,
        rows,
        cols,
        &row_names,
        &col_names,
    )?;

    let records = run.metrics();
    let mut loss = Vec::new();
    let mut val = Vec::new();
    let mut tst = Vec::new();
    for r in &records {
        let e = r["epoch"].as_f64().unwrap_or(0.0);
        if let Some(v) = r["losses"]["loss"].as_f64() {
            loss.push((e, v));
        }
        if let Some(v) = r["validation_accuracy"].as_f64() {
            val.push((e, 100.0 * v));
        }
        if let Some(v) = r["test_accuracy"].as_f64() {
            tst.push((e, 100.0 * v));
        }
    }
    viz::curves::line_chart(
        &run.file("figures/loss.png"),
        &format!("{model}: training loss"),
        "epoch",
        &[("loss (per example)".to_string(), loss)],
        "loss",
    )?;
    let mut series = vec![("validation accuracy".to_string(), val)];
    if !tst.is_empty() {
        series.push(("test accuracy (reported only)".to_string(), tst));
    }
    viz::curves::line_chart(
        &run.file("figures/curves.png"),
        &format!("{model}: accuracy"),
        "epoch",
        &series,
        "%",
    )
}
