use std::process::ExitCode;

use backstage_backup_core::duration::HumanDuration;
use backstage_backup_core::health::{health, HealthReport, HealthThresholds};
use backstage_backup_core::{Error, Result};
use chrono::Utc;

use crate::args::HealthArgs;
use crate::output::{print, print_json, report_error};

pub async fn run(args: HealthArgs) -> ExitCode {
    let json = args.output.json;
    match execute(&args).await {
        Ok(report) => {
            if json {
                print_json(&report);
            } else {
                print(&describe(&report));
            }
            ExitCode::from(report.status.exit_code())
        }
        // Health's own convention: a check that cannot run is UNKNOWN (3).
        Err(err) => {
            report_error(&err, json);
            ExitCode::from(3)
        }
    }
}

fn describe(report: &HealthReport) -> String {
    let mut out = format!("{} - {}\n", report.status.as_str(), report.summary);
    for check in &report.checks {
        out.push_str(&format!(
            "  {:<8} {:<11} {}\n",
            check.status.as_str(),
            check.name,
            check.message
        ));
    }
    out
}

fn ratio(name: &str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 && value < 1000.0 {
        Ok(value)
    } else {
        Err(Error::invalid(format!(
            "--{name} must be a positive number, e.g. 0.5"
        )))
    }
}

async fn execute(args: &HealthArgs) -> Result<HealthReport> {
    let parse = |text: &str| text.parse::<HumanDuration>().map(|d| d.0);
    let thresholds = HealthThresholds {
        max_age: parse(&args.max_age)?,
        size_drop: ratio("size-drop", args.size_drop)?,
        size_growth: ratio("size-growth", args.size_growth)?,
        verify_max_age: parse(&args.verify_max_age)?,
        drill_max_age: parse(&args.drill_max_age)?,
        ..HealthThresholds::default()
    };
    let trust = super::trust(&args.trust)?;
    let store = super::open_existing_store(&args.store).await?;
    Ok(health(store.as_ref(), &thresholds, Utc::now(), &trust).await)
}
