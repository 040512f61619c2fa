use chrono::{Duration, NaiveDate, NaiveDateTime, TimeZone};

use super::*;
use crate::error::ErrorKind;

fn at(text: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap();
    Utc.from_utc_datetime(&naive)
}

fn backup(group: &str, taken_at: DateTime<Utc>, verified: bool) -> Candidate {
    Candidate {
        id: format!("{group}-{}", taken_at.format("%Y%m%d_%H%M%S")),
        group: group.to_string(),
        taken_at,
        verified,
    }
}

/// One verified backup a day at `time` (e.g. "02:00:00"), from `first` to `last` inclusive.
fn daily(group: &str, first: &str, last: &str, time: &str) -> Vec<Candidate> {
    let first = NaiveDate::parse_from_str(first, "%Y-%m-%d").unwrap();
    let last = NaiveDate::parse_from_str(last, "%Y-%m-%d").unwrap();
    first
        .iter_days()
        .take_while(|day| *day <= last)
        .map(|day| backup(group, at(&format!("{day} {time}")), true))
        .collect()
}

fn policy(text: &str) -> RetentionPolicy {
    serde_json::from_str(text).unwrap()
}

/// Kept backups as "YYYY-MM-DD HH:MM:SS", in output order.
fn kept(decisions: &[Decision]) -> Vec<String> {
    decisions
        .iter()
        .filter(|d| d.keep)
        .map(|d| d.taken_at.format("%Y-%m-%d %H:%M:%S").to_string())
        .collect()
}

fn kept_days(decisions: &[Decision]) -> Vec<String> {
    kept(decisions)
        .iter()
        .map(|t| t[..10].to_string())
        .collect()
}

fn reasons_of<'a>(decisions: &'a [Decision], id: &str) -> &'a [String] {
    &decisions.iter().find(|d| d.id == id).unwrap().reasons
}

#[test]
fn a_year_of_daily_backups() {
    // 2025-11-01 .. 2026-11-30: thirteen months, so keep_monthly 12 must drop November 2025.
    let history = daily("catalog", "2025-11-01", "2026-11-30", "02:00:00");
    let now = at("2026-11-30 12:00:00");
    let cases: [(&str, &[&str]); 5] = [
        (
            r#"{"keepDaily": 7, "keepWeekly": 4, "keepMonthly": 12}"#,
            &[
                "2026-11-30",
                "2026-11-29",
                "2026-11-28",
                "2026-11-27",
                "2026-11-26",
                "2026-11-25",
                "2026-11-24",
                "2026-11-22",
                "2026-11-15",
                "2026-10-31",
                "2026-09-30",
                "2026-08-31",
                "2026-07-31",
                "2026-06-30",
                "2026-05-31",
                "2026-04-30",
                "2026-03-31",
                "2026-02-28",
                "2026-01-31",
                "2025-12-31",
            ],
        ),
        (
            r#"{"keepLast": 5}"#,
            &[
                "2026-11-30",
                "2026-11-29",
                "2026-11-28",
                "2026-11-27",
                "2026-11-26",
            ],
        ),
        // Sundays end ISO weeks: 11-30 is the Monday of W49.
        (
            r#"{"keepWeekly": 3}"#,
            &["2026-11-30", "2026-11-29", "2026-11-22"],
        ),
        (
            r#"{"keepMonthly": 3}"#,
            &["2026-11-30", "2026-10-31", "2026-09-30"],
        ),
        // Cutoff 11-27 12:00 falls after that day's 02:00 backup.
        (
            r#"{"keepWithin": "3d"}"#,
            &["2026-11-30", "2026-11-29", "2026-11-28"],
        ),
    ];
    for (rules, expected) in cases {
        let decisions = plan(&history, &policy(rules), now).unwrap();
        assert_eq!(decisions.len(), history.len(), "{rules}");
        assert_eq!(kept_days(&decisions), expected, "{rules}");
    }

    let decisions = plan(&history, &policy(cases[0].0), now).unwrap();
    assert_eq!(
        reasons_of(&decisions, "catalog-20261130_020000"),
        [
            "daily 2026-11-30",
            "weekly 2026-W49",
            "monthly 2026-11",
            NEWEST_VERIFIED
        ]
    );
    assert_eq!(
        reasons_of(&decisions, "catalog-20261129_020000"),
        ["daily 2026-11-29", "weekly 2026-W48"]
    );
    assert_eq!(
        reasons_of(&decisions, "catalog-20251231_020000"),
        ["monthly 2025-12"]
    );
    assert!(reasons_of(&decisions, "catalog-20261123_020000").is_empty());
    assert!(reasons_of(&decisions, "catalog-20251130_020000").is_empty());
}

#[test]
fn several_backups_a_day_keep_the_newest_of_each_day() {
    let mut history = Vec::new();
    for time in ["00:30:00", "06:30:00", "12:30:00", "18:30:00"] {
        history.extend(daily("catalog", "2026-11-21", "2026-11-30", time));
    }
    let now = at("2026-11-30 20:00:00");
    let cases: [(&str, &[&str]); 3] = [
        (
            r#"{"keepDaily": 3}"#,
            &[
                "2026-11-30 18:30:00",
                "2026-11-29 18:30:00",
                "2026-11-28 18:30:00",
            ],
        ),
        (
            r#"{"keepLast": 2, "keepDaily": 3}"#,
            &[
                "2026-11-30 18:30:00",
                "2026-11-30 12:30:00",
                "2026-11-29 18:30:00",
                "2026-11-28 18:30:00",
            ],
        ),
        (
            r#"{"keepWithin": "12h"}"#,
            &["2026-11-30 18:30:00", "2026-11-30 12:30:00"],
        ),
    ];
    for (rules, expected) in cases {
        let decisions = plan(&history, &policy(rules), now).unwrap();
        assert_eq!(kept(&decisions), expected, "{rules}");
    }
}

#[test]
fn days_are_utc_calendar_days() {
    let history = [
        backup("catalog", at("2026-11-30 00:00:00"), true),
        backup("catalog", at("2026-11-29 23:59:59"), true),
        backup("catalog", at("2026-11-29 00:00:00"), true),
    ];
    let decisions = plan(
        &history,
        &policy(r#"{"keepDaily": 2}"#),
        at("2026-11-30 01:00:00"),
    )
    .unwrap();
    assert_eq!(
        kept(&decisions),
        ["2026-11-30 00:00:00", "2026-11-29 23:59:59"]
    );
}

#[test]
fn gaps_of_weeks_count_periods_that_have_backups() {
    let history: Vec<_> = [
        "2026-11-30",
        "2026-11-29",
        "2026-11-08",
        "2026-11-07",
        "2026-10-03",
        "2026-08-15",
    ]
    .iter()
    .map(|day| backup("catalog", at(&format!("{day} 02:00:00")), true))
    .collect();
    let now = at("2026-11-30 12:00:00");
    let cases: [(&str, &[&str]); 5] = [
        (
            r#"{"keepDaily": 4}"#,
            &["2026-11-30", "2026-11-29", "2026-11-08", "2026-11-07"],
        ),
        // 11-08 and 11-07 share W45.
        (
            r#"{"keepWeekly": 3}"#,
            &["2026-11-30", "2026-11-29", "2026-11-08"],
        ),
        (
            r#"{"keepWeekly": 5}"#,
            &[
                "2026-11-30",
                "2026-11-29",
                "2026-11-08",
                "2026-10-03",
                "2026-08-15",
            ],
        ),
        (
            r#"{"keepMonthly": 3}"#,
            &["2026-11-30", "2026-10-03", "2026-08-15"],
        ),
        (
            r#"{"keepWithin": "4w"}"#,
            &["2026-11-30", "2026-11-29", "2026-11-08", "2026-11-07"],
        ),
    ];
    for (rules, expected) in cases {
        let decisions = plan(&history, &policy(rules), now).unwrap();
        assert_eq!(kept_days(&decisions), expected, "{rules}");
    }
}

#[test]
fn groups_do_not_interfere() {
    let mut history = daily("scaffolder", "2026-11-21", "2026-11-30", "03:00:00");
    for c in &mut history {
        c.verified = c.taken_at <= at("2026-11-25 03:00:00");
    }
    history.extend(daily("catalog", "2026-11-21", "2026-11-30", "02:00:00"));
    let decisions = plan(
        &history,
        &policy(r#"{"keepLast": 2}"#),
        at("2026-11-30 12:00:00"),
    )
    .unwrap();

    let order: Vec<_> = decisions.iter().map(|d| d.group.as_str()).collect();
    assert_eq!(order, [["catalog"; 10], ["scaffolder"; 10]].concat());
    let kept_ids: Vec<_> = decisions
        .iter()
        .filter(|d| d.keep)
        .map(|d| d.id.as_str())
        .collect();
    assert_eq!(
        kept_ids,
        [
            "catalog-20261130_020000",
            "catalog-20261129_020000",
            "scaffolder-20261130_030000",
            "scaffolder-20261129_030000",
            "scaffolder-20261125_030000",
        ]
    );
    assert_eq!(
        reasons_of(&decisions, "catalog-20261130_020000"),
        ["last 2", NEWEST_VERIFIED]
    );
    assert_eq!(
        reasons_of(&decisions, "scaffolder-20261125_030000"),
        [NEWEST_VERIFIED]
    );
}

#[test]
fn backups_from_the_future_are_kept_and_take_no_slot() {
    let mut history = daily("catalog", "2026-11-25", "2026-11-30", "02:00:00");
    history.push(backup("catalog", at("2027-01-01 00:00:00"), true));
    let now = at("2026-11-30 01:00:00");
    let decisions = plan(&history, &policy(r#"{"keepLast": 2}"#), now).unwrap();
    assert_eq!(
        kept(&decisions),
        [
            "2027-01-01 00:00:00",
            "2026-11-30 02:00:00",
            "2026-11-29 02:00:00",
            "2026-11-28 02:00:00",
        ]
    );
    assert_eq!(reasons_of(&decisions, "catalog-20270101_000000"), [FUTURE]);
    assert_eq!(reasons_of(&decisions, "catalog-20261130_020000"), [FUTURE]);
    // The newest verified backup is the newest one whose time can be trusted.
    assert_eq!(
        reasons_of(&decisions, "catalog-20261129_020000"),
        ["last 2", NEWEST_VERIFIED]
    );
}

#[test]
fn keep_within_includes_its_boundary() {
    let now = at("2026-11-30 12:00:00");
    let times = [
        "2026-11-30 12:00:01",
        "2026-11-30 12:00:00",
        "2026-11-29 00:00:00",
        "2026-11-28 23:59:59",
        "2026-10-31 12:00:00",
        "2026-10-31 11:59:59",
    ];
    // Newest unverified so the safety rule keeps only the oldest, out of the way.
    let mut history: Vec<_> = times
        .iter()
        .map(|t| backup("catalog", at(t), false))
        .collect();
    history[5].verified = true;
    let cases: [(&str, &[&str]); 3] = [
        (
            "30d",
            &[
                "2026-11-30 12:00:01",
                "2026-11-30 12:00:00",
                "2026-11-29 00:00:00",
                "2026-11-28 23:59:59",
                "2026-10-31 12:00:00",
                "2026-10-31 11:59:59",
            ],
        ),
        (
            "1d12h",
            &[
                "2026-11-30 12:00:01",
                "2026-11-30 12:00:00",
                "2026-11-29 00:00:00",
                "2026-10-31 11:59:59",
            ],
        ),
        (
            "1s",
            &[
                "2026-11-30 12:00:01",
                "2026-11-30 12:00:00",
                "2026-10-31 11:59:59",
            ],
        ),
    ];
    for (within, expected) in cases {
        let rules = format!(r#"{{"keepWithin": "{within}"}}"#);
        let decisions = plan(&history, &policy(&rules), now).unwrap();
        assert_eq!(kept(&decisions), expected, "{within}");
        assert_eq!(
            reasons_of(&decisions, "catalog-20261130_120000"),
            [format!("within {within}")]
        );
    }
    let decisions = plan(&history, &policy(r#"{"keepWithin": "30d"}"#), now).unwrap();
    assert_eq!(
        reasons_of(&decisions, "catalog-20261031_120000"),
        ["within 30d"]
    );
    assert_eq!(
        reasons_of(&decisions, "catalog-20261031_115959"),
        [NEWEST_VERIFIED.to_string()]
    );
}

#[test]
fn the_newest_verified_backup_survives() {
    let now = at("2026-11-30 12:00:00");
    let mut history = daily("catalog", "2026-11-26", "2026-11-30", "02:00:00");
    for c in &mut history {
        // 11-26 and 11-27 verified; the three newest not (yet).
        c.verified = c.taken_at < at("2026-11-28 00:00:00");
    }
    let decisions = plan(&history, &policy(r#"{"keepLast": 1}"#), now).unwrap();
    assert_eq!(
        kept(&decisions),
        ["2026-11-30 02:00:00", "2026-11-27 02:00:00"]
    );
    assert_eq!(
        reasons_of(&decisions, "catalog-20261130_020000"),
        ["last 1"]
    );
    assert_eq!(
        reasons_of(&decisions, "catalog-20261127_020000"),
        [NEWEST_VERIFIED]
    );

    for c in &mut history {
        c.verified = false;
    }
    for rules in [
        r#"{"keepLast": 0, "keepWithin": "1h"}"#,
        r#"{"keepWithin": "1h"}"#,
    ] {
        let decisions = plan(&history, &policy(rules), now).unwrap();
        assert_eq!(kept(&decisions), ["2026-11-30 02:00:00"], "{rules}");
        assert_eq!(
            reasons_of(&decisions, "catalog-20261130_020000"),
            [NEWEST_UNVERIFIED]
        );
    }
}

#[test]
fn bad_policies_are_refused() {
    let history = daily("catalog", "2026-11-29", "2026-11-30", "02:00:00");
    let now = at("2026-11-30 12:00:00");
    let empty = RetentionPolicy::default();
    assert!(empty.is_empty());
    let err = plan(&history, &empty, now).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.message(), EMPTY_POLICY);

    let cases = [
        (
            RetentionPolicy {
                keep_weekly: Some(100_001),
                ..Default::default()
            },
            "--keep-weekly 100001 is more than the limit of 100000: give a smaller count",
        ),
        (
            RetentionPolicy {
                keep_last: Some(3),
                keep_within: Some(HumanDuration(Duration::days(36501))),
                ..Default::default()
            },
            "--keep-within: '36501d' is too long",
        ),
        (
            RetentionPolicy {
                keep_within: Some(HumanDuration(Duration::seconds(-1))),
                ..Default::default()
            },
            "--keep-within: a duration of -1 seconds is negative",
        ),
    ];
    for (bad, expected) in cases {
        let err = bad.validate().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().starts_with(expected), "{}", err.message());
        assert_eq!(plan(&history, &bad, now).unwrap_err(), err);
    }

    let limits = RetentionPolicy {
        keep_last: Some(0),
        keep_daily: Some(MAX_COUNT),
        ..Default::default()
    };
    assert!(!limits.is_empty());
    limits.validate().unwrap();
}

#[test]
fn policies_that_keep_nothing_are_refused() {
    let history = daily("catalog", "2026-11-27", "2026-11-30", "02:00:00");
    let now = at("2026-11-30 12:00:00");
    let zero_within = Some(HumanDuration(Duration::zero()));
    let keeping_nothing = [
        RetentionPolicy {
            keep_last: Some(0),
            ..Default::default()
        },
        RetentionPolicy {
            keep_daily: Some(0),
            ..Default::default()
        },
        RetentionPolicy {
            keep_within: zero_within,
            ..Default::default()
        },
        RetentionPolicy {
            keep_last: Some(0),
            keep_daily: Some(0),
            keep_weekly: Some(0),
            keep_monthly: Some(0),
            keep_within: zero_within,
        },
    ];
    for policy in keeping_nothing {
        let err = plan(&history, &policy, now).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{policy:?}");
        assert_eq!(err.message(), ZERO_POLICY, "{policy:?}");
    }
    let one_rule_keeps = RetentionPolicy {
        keep_last: Some(0),
        keep_within: Some(HumanDuration(Duration::days(1))),
        ..Default::default()
    };
    assert!(plan(&history, &one_rule_keeps, now).is_ok());
}

#[test]
fn duplicate_ids_are_refused() {
    let history = [
        backup("catalog", at("2026-11-30 02:00:00"), true),
        backup("catalog", at("2026-11-30 02:00:00"), false),
    ];
    let err = plan(
        &history,
        &policy(r#"{"keepLast": 1}"#),
        at("2026-11-30 12:00:00"),
    )
    .unwrap_err();
    assert_eq!(
        err.message(),
        "backup 'catalog-20261130_020000' is listed twice: give each candidate once"
    );
}

#[test]
fn equal_times_are_ordered_by_id() {
    let taken_at = at("2026-11-30 02:00:00");
    let history = ["catalog-b", "catalog-a"].map(|id| Candidate {
        id: id.to_string(),
        group: "catalog".to_string(),
        taken_at,
        verified: true,
    });
    let decisions = plan(
        &history,
        &policy(r#"{"keepLast": 1}"#),
        at("2026-11-30 12:00:00"),
    )
    .unwrap();
    let ids: Vec<_> = decisions.iter().map(|d| (d.id.as_str(), d.keep)).collect();
    assert_eq!(ids, [("catalog-a", true), ("catalog-b", false)]);
}

#[test]
fn shuffled_input_gives_the_same_plan() {
    let mut history = daily("scaffolder", "2026-01-01", "2026-11-30", "03:00:00");
    history.extend(daily("catalog", "2026-01-01", "2026-11-30", "02:00:00"));
    history.extend(daily("catalog", "2026-06-01", "2026-11-30", "14:00:00"));
    for (i, c) in history.iter_mut().enumerate() {
        c.verified = i % 3 != 0;
    }
    let rules = policy(
        r#"{"keepLast": 3, "keepDaily": 10, "keepWeekly": 8, "keepMonthly": 6, "keepWithin": "2w"}"#,
    );
    let now = at("2026-11-20 12:00:00");
    let expected = plan(&history, &rules, now).unwrap();

    let mut shuffled = history.clone();
    // Fisher-Yates with a fixed LCG: a reproducible shuffle without a rand dependency.
    let mut state: u64 = 0x5eed;
    for i in (1..shuffled.len()).rev() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        shuffled.swap(i, (state >> 33) as usize % (i + 1));
    }
    assert_ne!(shuffled, history);
    assert_eq!(plan(&shuffled, &rules, now).unwrap(), expected);
    history.reverse();
    assert_eq!(plan(&history, &rules, now).unwrap(), expected);
    // Newest first overall within each group: the first catalog decision is the newest.
    assert_eq!(expected[0].id, "catalog-20261130_140000");
    assert_eq!(expected[0].reasons, [FUTURE]);
}

#[test]
fn policy_and_decision_serde() {
    let parsed = policy(r#"{"keepDaily": 7, "keepWithin": "30d"}"#);
    assert_eq!(
        parsed,
        RetentionPolicy {
            keep_daily: Some(7),
            keep_within: Some(HumanDuration(Duration::days(30))),
            ..Default::default()
        }
    );
    assert_eq!(
        serde_json::to_string(&parsed).unwrap(),
        r#"{"keepDaily":7,"keepWithin":"30d"}"#
    );
    let err = serde_json::from_str::<RetentionPolicy>(r#"{"keepHourly": 24}"#).unwrap_err();
    assert!(
        err.to_string().contains("unknown field `keepHourly`"),
        "{err}"
    );

    let decision = Decision {
        id: "catalog-20261130_020000".into(),
        group: "catalog".into(),
        taken_at: at("2026-11-30 02:00:00"),
        keep: true,
        reasons: vec!["last 1".into()],
    };
    assert_eq!(
        serde_json::to_string(&decision).unwrap(),
        r#"{"id":"catalog-20261130_020000","group":"catalog","taken_at":"2026-11-30T02:00:00Z","keep":true,"reasons":["last 1"]}"#
    );
}
