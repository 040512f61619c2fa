use std::process::ExitCode;

use backstage_backup_core::health::{health, HealthReport, HealthRequest};
use backstage_backup_core::Result;
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

async fn execute(args: &HealthArgs) -> Result<HealthReport> {
    let thresholds = HealthRequest {
        max_age: Some(args.max_age.clone()),
        verify_max_age: Some(args.verify_max_age.clone()),
        drill_max_age: Some(args.drill_max_age.clone()),
        size_drop: Some(args.size_drop),
        size_growth: Some(args.size_growth),
    }
    .thresholds()?;
    let trust = super::trust(&args.trust)?;
    let store = super::open_existing_store(&args.store).await?;
    Ok(health(store.as_ref(), &thresholds, Utc::now(), &trust).await)
}
