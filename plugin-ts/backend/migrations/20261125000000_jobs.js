// @ts-check
/**
 * Job history: one row per backup, verify, drill, restore or prune run, kept across restarts.
 * A running job's `lock_key` is unique among running jobs, so two backups of one database
 * cannot start at once, whichever replica takes the request.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('backup_jobs', table => {
    table.string('id').primary();
    table.string('kind').notNullable();
    table.string('status').notNullable();
    table.string('trigger').notNullable();
    table.string('actor').notNullable();
    table.string('plugin_id').notNullable();
    table.string('backup_id').nullable();
    table.string('lock_key').nullable();
    table.string('runner_id').notNullable();
    table.timestamp('started_at', { useTz: true }).notNullable();
    table.timestamp('heartbeat_at', { useTz: true }).notNullable();
    table.timestamp('finished_at', { useTz: true }).nullable();
    table.bigInteger('duration_ms').nullable();
    table.string('phase').nullable();
    table.bigInteger('raw_bytes').notNullable().defaultTo(0);
    table.bigInteger('stored_bytes').notNullable().defaultTo(0);
    table.bigInteger('bytes').nullable();
    table.string('error_code').nullable();
    table.text('error_message').nullable();
    table.text('result').nullable();
    table.index(['started_at'], 'backup_jobs_started_at_idx');
  });
  await knex.raw(
    "CREATE UNIQUE INDEX backup_jobs_running_lock_idx ON backup_jobs (lock_key) WHERE status = 'running'",
  );
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('backup_jobs');
};
