'use strict';
// The measured recovery times beside the runbook's RTOs
// (../shared/runbook-backup-and-dr.md, "Disaster Scenarios and Responses" and "Restore PostgreSQL
// from Backup"), printed as one table and kept under tests/artifacts/e2e/.
const fs = require('node:fs');
const path = require('node:path');

const rows = [];

/** Records one recovery: `ms` from the start of the restore to the catalog serving again. */
function record(row) {
  rows.push(row);
}

/** A markdown table cell: a pipe, even in a code span, would end the cell. */
const cell = text => text.replace(/\|/g, '\\|');

const seconds = ms => `${(ms / 1000).toFixed(1)} s`;

function table() {
  const sorted = [...rows].sort((a, b) => a.n.localeCompare(b.n));
  const lines = [
    '| # | Disaster | Recovery (as an operator) | Measured | of which the restore | Runbook RTO |',
    '| --- | --- | --- | ---: | ---: | --- |',
    ...sorted.map(
      r =>
        `| ${cell(r.n)} | ${cell(r.disaster)} | ${cell(r.how)} | ${r.ms === null ? 'failed' : seconds(r.ms)} | ` +
        `${r.restoreMs === null ? '–' : seconds(r.restoreMs)} | ${cell(r.runbook)} |`,
    ),
  ];
  return lines.join('\n');
}

/** Prints the table and writes it (markdown and JSON) into `dir`. */
function publish(dir, preface) {
  if (rows.length === 0) return;
  const text = `${preface}\n\n${table()}\n`;
  console.log(`\n${text}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'recovery-times.md'), text);
  fs.writeFileSync(path.join(dir, 'recovery-times.json'), `${JSON.stringify(rows, null, 2)}\n`);
}

module.exports = { record, publish, seconds };
